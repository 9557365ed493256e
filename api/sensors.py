"""`/v1/sensors` and `/v1/alerts`: readings in; sensors, readings, events, alerts out."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from api import schemas
from api.bodies import json_body
from api.context import services
from api.declare import Param, declare
from models.artifacts import read_manifest
from models.errors import ModelError
from predictq.errors import InvalidInput, NotFound
from predictq.streams.records import Event
from predictq.streams.validation import SENSOR_ID, parse_readings, parse_time, sensor_id

bp = Blueprint("sensors", __name__)

MAX_LIMIT = 100_000

SENSOR = Param("sensor", "path", {"type": "string", "pattern": f"^{SENSOR_ID.pattern}$"},
               "Letters, digits, '.', '_' and '-', starting with a letter or digit.")
SENSOR_ID_ARG = Param("sensor_id", "query", {"type": "string"}, "Only this sensor's.")


def _limit_param(default: int) -> Param:
    return Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                    "default": default}, "At most this many.")


def _time_param(name: str, text: str) -> Param:
    return Param(name, "query", {"type": "string"},
                 f"{text}: epoch seconds or an ISO-8601 date-time (naive is UTC).")


def _explain_readings(body: Any) -> None:
    parse_readings(body, services().settings.max_readings_per_request)


@bp.post("/v1/sensors/<sensor>/readings")
@declare("Send a sensor's readings", tag="sensors", body=schemas.readings,
         explain=_explain_readings, params=(SENSOR,), ok={202: schemas.ACCEPTED},
         errors=(400, 409, 413, 415, 422, 503))
def add_readings(sensor: str):
    accepted = services().readings.submit(sensor, json_body())
    return jsonify(accepted.to_public()), 202


@bp.get("/v1/sensors")
@declare("The sensors that have sent readings", tag="sensors",
         params=(_limit_param(1000),), ok={200: schemas.SENSORS}, errors=(422, 503))
def list_sensors():
    sensors = services().store.sensors.list_sensors(limit=_limit(1000))
    return jsonify({"sensors": [s.to_public() for s in sensors]})


@bp.get("/v1/sensors/<sensor>")
@declare("One sensor, its event model and its latest event", tag="sensors",
         params=(SENSOR,), ok={200: schemas.SENSOR_DETAIL}, errors=(404, 422, 503))
def get_sensor(sensor: str):
    info = _sensor(sensor)
    store = services().store
    recent = store.sensors.events(sensor_id=info.sensor_id, limit=1)
    return jsonify({**info.to_public(), "event_model": _event_model(),
                    "last_event": _event_public(recent[0]) if recent else None})


@bp.get("/v1/sensors/<sensor>/readings")
@declare("A sensor's readings in a time range, with their smoothing and scores",
         tag="sensors", params=(SENSOR, _time_param("since", "From (default: until - 600 s)"),
                                _time_param("until", "To (default: the last reading)"),
                                _limit_param(10_000)),
         ok={200: schemas.READINGS}, errors=(404, 422, 503))
def get_readings(sensor: str):
    info = _sensor(sensor)
    until = _time_arg("until", info.last_t if info.last_t is not None else 0.0)
    since = _time_arg("since", until - 600.0)
    if since > until:
        raise InvalidInput("'since' is after 'until'")
    rows = services().store.sensors.readings_between(info.sensor_id, since, until,
                                                     limit=_limit(10_000))
    readings = []
    for reading, result in rows:
        row: dict[str, Any] = {"t": reading.t, "value": reading.value}
        if reading.seq is not None:
            row["seq"] = reading.seq
        if result is None:
            row.update(smoothed=None, score=None, anomalous=None)
        else:
            row.update(smoothed=result.smoothed, score=result.score,
                       anomalous=result.anomalous)
        readings.append(row)
    return jsonify({"sensor_id": info.sensor_id, "since": since, "until": until,
                    "readings": readings})


@bp.get("/v1/sensors/<sensor>/events")
@declare("A sensor's events, newest first, with their classification", tag="sensors",
         params=(SENSOR, _time_param("since", "Only events after"), _limit_param(100)),
         ok={200: schemas.EVENTS}, errors=(404, 422, 503))
def get_events(sensor: str):
    info = _sensor(sensor)
    since = _time_arg("since", None)
    events = services().store.sensors.events(sensor_id=info.sensor_id, since=since,
                                             limit=_limit(100))
    return jsonify({"sensor_id": info.sensor_id,
                    "events": [_event_public(e) for e in events]})


@bp.get("/v1/alerts")
@declare("Alerts, newest first", tag="sensors",
         params=(_time_param("since", "Only alerts after"), SENSOR_ID_ARG, _limit_param(100)),
         ok={200: schemas.ALERTS}, errors=(422, 503))
def get_alerts():
    since = _time_arg("since", None)
    wanted = request.args.get("sensor_id")
    alerts = services().store.sensors.alerts(since=since, sensor_id=wanted,
                                             limit=_limit(100))
    return jsonify({"alerts": [a.to_public() for a in alerts]})


def _sensor(sensor: str):
    info = services().store.sensors.sensor(sensor_id(sensor))
    if info is None:
        raise NotFound(f"no sensor {sensor!r} has sent readings")
    return info


def _event_model() -> dict[str, Any]:
    """The model that classifies this deployment's events and the version it serves."""
    settings = services().settings
    try:
        version = read_manifest(settings.resolved_model_dir, settings.event_model).version
    except ModelError:
        version = None  # not trained here (the API may not see the workers' folder)
    return {"name": settings.event_model, "version": version}


def _event_public(event: Event) -> dict[str, Any]:
    """The event with its classification, as far as it has got."""
    public = event.to_public()
    public["classification"] = None
    if event.tracking_id:
        job = services().store.get(event.tracking_id)
        if job is not None:
            public["classification"] = {"status": job.status.value, "result": job.result,
                                        "model": job.model,
                                        "model_version": job.model_version}
    return public


def _time_arg(name: str, default: float | None) -> float | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    return parse_time(raw, f"'{name}'")


def _limit(default: int) -> int:
    raw = request.args.get("limit")
    if raw is None:
        return default
    try:
        limit = int(raw)
    except ValueError:
        raise InvalidInput("'limit' must be a whole number") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"'limit' must be between 1 and {MAX_LIMIT}")
    return limit
