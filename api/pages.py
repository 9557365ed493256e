"""The browser pages for sensor streams; their data comes from `/v1/...` in the browser."""

from __future__ import annotations

from flask import Blueprint, render_template

from predictq.streams.validation import sensor_id

bp = Blueprint("pages", __name__)


@bp.get("/sensors")
def sensors_page():
    return render_template("sensors.html")


@bp.get("/sensors/<sensor>")
def sensor_page(sensor: str):
    return render_template("sensor.html", sensor_id=sensor_id(sensor))
