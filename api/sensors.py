"""`/v1/sensors` and `/v1/alerts`: readings in; sensors, readings, events, alerts out,
and the live views the sensor pages follow (server-sent events, changes only)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flask import Blueprint, Response, jsonify, request

from api import schemas, sse
from api.bodies import json_body
from api.context import services
from api.declare import Param, Reply, declare
from api.monitor import broadcasts
from api.waiting import WAIT, wait_seconds
from models.artifacts import read_manifest
from models.errors import ModelError
from predictq.broadcast import Broadcast, shared
from predictq.errors import InvalidInput, NotFound
from predictq.services import Services
from predictq.settings import Settings
from predictq.store import Store
from predictq.streams.records import Event, SensorInfo
from predictq.streams.validation import SENSOR_ID, parse_readings, parse_time, sensor_id

bp = Blueprint("sensors", __name__)

MAX_LIMIT = 100_000
# The live views: looked at once a second per API process (what a reading's trip
# through the stream worker takes anyway), the newest alerts with them.
LIVE_EVERY_S = 1.0
LIVE_ALERTS = 50

SENSOR = Param("sensor", "path", {"type": "string", "pattern": f"^{SENSOR_ID.pattern}$"},
               "Letters, digits, '.', '_' and '-', starting with a letter or digit.")
SENSOR_ID_ARG = Param("sensor_id", "query", {"type": "string"}, "Only this sensor's.")


def _live_description(first: str) -> str:
    return (f"{first} at once, then each time that changes, looked at every second, for "
            "`wait` seconds (default and most: PREDICTQ_WAIT_MAX_S); then the stream ends "
            "and the client opens another. One look per second per API process, however "
            "many pages follow it.")


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
    return jsonify(sensor_detail(services(), sensor_id(sensor)))


@bp.get("/v1/sensors/<sensor>/live")
@declare("One sensor as it changes (server-sent events)", tag="sensors",
         params=(SENSOR, WAIT), errors=(400, 404, 422, 503),
         description=_live_description(
             "A `sensor` event (data: what GET /v1/sensors/{sensor} answers, and the "
             "sensor's newest alerts)") + " `sensor` is null if the sensor's readings "
             "are deleted meanwhile (retention).",
         ok={200: Reply(schemas.sse_event(["sensor"], schemas.SENSOR_LIVE),
                        "An event stream; each event's data is the sensor and its alerts.",
                        media_type="text/event-stream")})
def sensor_live(sensor: str):
    wanted = _sensor(sensor).sensor_id  # 404 before the stream starts, not inside it
    return _live("sensor", f"sensor:{wanted}", lambda svc: _sensor_view(svc, wanted))


@bp.get("/v1/monitor/sensors")
@declare("The sensors and the newest alerts as they change (server-sent events)",
         tag="sensors", params=(WAIT,), errors=(400, 503),
         description=_live_description(
             "A `sensors` event (data: what GET /v1/sensors and GET /v1/alerts answer, "
             "the 50 newest alerts)"),
         ok={200: Reply(schemas.sse_event(["sensors"], schemas.SENSORS_LIVE),
                        "An event stream; each event's data is the sensors and alerts.",
                        media_type="text/event-stream")})
def sensors_live():
    return _live("sensors", "sensors", _sensors_view)


def _live(name: str, key: str, view: Callable[[Services], str]) -> Response:
    """A stream of `name` events: the view `key` (one per API process, looked at every
    LIVE_EVERY_S) at once, then each time it changes, for `?wait=` seconds."""
    svc = services()
    seconds = wait_seconds(default=svc.settings.wait_max_s)
    views = shared(broadcasts(), key, lambda: view(svc), LIVE_EVERY_S)
    return sse.response(_changes(name, views, seconds))


def sensor_detail(svc: Services, wanted: str) -> dict[str, Any]:
    """What GET /v1/sensors/<sensor> answers; NotFound if it has sent no readings."""
    info = svc.store.sensors.sensor(wanted)
    if info is None:
        raise NotFound(f"no sensor {wanted!r} has sent readings")
    recent = svc.store.sensors.events(sensor_id=info.sensor_id, limit=1)
    return {**info.to_public(), "event_model": _event_model(svc.settings),
            "last_event": _event_public(svc.store, recent[0]) if recent else None}


def _sensor_view(svc: Services, wanted: str) -> str:
    try:
        detail: dict[str, Any] | None = sensor_detail(svc, wanted)
    except NotFound:
        detail = None
    alerts = svc.store.sensors.alerts(sensor_id=wanted, limit=LIVE_ALERTS)
    return sse.compact({"sensor": detail, "alerts": [a.to_public() for a in alerts]})


def _sensors_view(svc: Services) -> str:
    sensors = svc.store.sensors.list_sensors(limit=1000)
    alerts = svc.store.sensors.alerts(limit=LIVE_ALERTS)
    return sse.compact({"sensors": [s.to_public() for s in sensors],
                        "alerts": [a.to_public() for a in alerts]})


def _changes(name: str, views: Broadcast[str], seconds: float) -> Iterator[str]:
    """The first view at once, then only views that differ from the one sent last."""
    last = None
    for view in views.subscribe(seconds):
        if view != last:
            last = view
            yield sse.event_text(name, view)


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
                    "events": [_event_public(services().store, e) for e in events]})


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


def _sensor(sensor: str) -> SensorInfo:
    info = services().store.sensors.sensor(sensor_id(sensor))
    if info is None:
        raise NotFound(f"no sensor {sensor!r} has sent readings")
    return info


def _event_model(settings: Settings) -> dict[str, Any]:
    """The model that classifies this deployment's events and the version it serves."""
    try:
        version = read_manifest(settings.resolved_model_dir, settings.event_model).version
    except ModelError:
        version = None  # not trained here (the API may not see the workers' folder)
    return {"name": settings.event_model, "version": version}


def _event_public(store: Store, event: Event) -> dict[str, Any]:
    """The event with its classification, as far as it has got."""
    public = event.to_public()
    public["classification"] = None
    if event.tracking_id:
        job = store.get(event.tracking_id)
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
