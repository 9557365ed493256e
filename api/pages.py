"""The browser pages beyond the form: sensor streams and the model lifecycle. Their data
comes from `/v1/...` in the browser."""

from __future__ import annotations

from flask import Blueprint, render_template

from models.errors import UnknownModelName
from models.registry import get_spec
from predictq.errors import UnknownModel
from predictq.streams.validation import sensor_id

bp = Blueprint("pages", __name__)


@bp.get("/sensors")
def sensors_page():
    return render_template("sensors.html")


@bp.get("/sensors/<sensor>")
def sensor_page(sensor: str):
    return render_template("sensor.html", sensor_id=sensor_id(sensor))


@bp.get("/models")
def models_page():
    return render_template("models.html")


@bp.get("/models/<name>")
def model_page(name: str):
    try:
        spec = get_spec(name)
    except UnknownModelName as exc:
        raise UnknownModel(str(exc)) from None
    return render_template("model.html", model=spec.name, family=spec.family)
