"""The JSON Schemas of the REST API's bodies, shared by the declarations in the blueprints.

Request bodies are held to these (api/declare.py); the per-model input schemas come
from the models themselves (`ModelSpec.input_schema`). Response schemas say what a
client may rely on: the fields listed are always there; more may be added later
(DESIGN.md §2: the contract changes only by adding).
"""

from __future__ import annotations

from typing import Any

from models.registry import REGISTRY
from predictq.callbacks.targets import CALLBACK_URL_SCHEMA
from predictq.lifecycle.feedback import MAX_LABEL_CHARS
from predictq.settings import Settings
from predictq.streams.validation import MAX_T

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def sse_event(names: list[str], data: Schema) -> Schema:
    """One server-sent event as OpenAPI tools read a `text/event-stream` (the shape of
    OpenAPI 3.2's itemSchema): its name, and its data, a JSON text of schema `data`."""
    return {"type": "object", "required": ["event", "data"], "properties": {
        "event": {"enum": names},
        "data": {"type": "string", "contentMediaType": "application/json",
                 "contentSchema": data}}}


def _input_name(model: str) -> str:
    return f"{model.capitalize()}Input"


def _obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None,
         **extra: Any) -> Schema:
    return {"type": "object", "properties": {**required, **(optional or {})},
            "required": list(required), **extra}


STR = {"type": "string"}
NUM = {"type": "number"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
OBJ = {"type": "object"}
ARR = {"type": "array"}
TIME = {"type": "string", "format": "date-time"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


ERROR = _obj({"error": _obj({"code": {**STR, "description": "Machine-readable."},
                             "message": {**STR, "description": "For a person."}},
                            additionalProperties=False)},
             additionalProperties=False,
             examples=[{"error": {"code": "invalid_input",
                                  "message": "input.text must be a non-empty string"}}])

# What each error status means, across the API; an operation lists the ones it can give.
ERRORS = {
    400: "Malformed request: the body is not JSON or not an object (`invalid_request`).",
    404: "Not found (`not_found`; `unknown_model` for a model that does not exist).",
    409: "Conflict with what is stored (`out_of_order`, `not_finished`, …).",
    413: "The body is larger than the limit (`payload_too_large`).",
    415: "The body is not `application/json` (`unsupported_media_type`).",
    422: "Well-formed but invalid input (`invalid_input`, `idempotency_conflict`).",
    503: "The store or the broker is down, or the model has no artifact "
         "(`store_unavailable`, `broker_unavailable`, `model_unavailable`).",
}


def components(settings: Settings) -> dict[str, Schema]:
    """The named schemas: the error envelope and each model's input."""
    named: dict[str, Schema] = {"Error": ERROR, "Job": JOB}
    for spec in REGISTRY.values():
        named[_input_name(spec.name)] = spec.input_schema(max_chars=settings.max_text_chars)
    return named


def _submission(name: str, field: str, value: Schema, settings: Settings) -> Schema:
    # `callback_url` only where the operator allows callbacks (docs/CALLBACKS.md): with
    # none allowed it is refused, and the document says so by leaving it out.
    callback = ({"callback_url": CALLBACK_URL_SCHEMA} if settings.callback_allow.strip()
                else {})
    return _obj({"model": {"const": name}, field: value}, callback,
                additionalProperties=False, title=f"{name} submission")


def submission(settings: Settings) -> Schema:
    """`POST /v1/predictions`: one input for one model."""
    return {"oneOf": [_submission(n, "input", ref(_input_name(n)), settings)
                      for n in REGISTRY]}


def batch_submission(settings: Settings) -> Schema:
    """`POST /v1/predictions/batch`: up to max_batch_inputs inputs for one model."""
    return {"oneOf": [
        _submission(n, "inputs", {"type": "array", "items": ref(_input_name(n)),
                                  "minItems": 1, "maxItems": settings.max_batch_inputs},
                    settings)
        for n in REGISTRY]}


def readings(settings: Settings) -> Schema:
    """`POST /v1/sensors/<id>/readings`, in strictly increasing time (and seq) order."""
    reading = _obj(
        {"t": {"description": "Epoch seconds (1970-9999) or an ISO-8601 date-time.",
               "anyOf": [{**NUM, "minimum": 0, "maximum": MAX_T},
                         {**STR, "format": "date-time"}]},
         "value": {**NUM, "description": "A finite number."}},
        {"seq": {**INT, "minimum": 0, "maximum": 2**63 - 1,
                 "description": "The sender's sequence number, to drop duplicates."}},
        additionalProperties=False)
    return _obj({"readings": {"type": "array", "items": reading, "minItems": 1,
                              "maxItems": settings.max_readings_per_request}},
                additionalProperties=False,
                description="Readings in strictly increasing time (and seq) order.")


FEEDBACK_BODY = _obj({"label": {**STR, "minLength": 1, "maxLength": MAX_LABEL_CHARS,
                                "description": "The true answer: one of the model's "
                                               "labels."}},
                     additionalProperties=False)

# --- responses -------------------------------------------------------------------------

STATUS = {"type": "string", "enum": ["queued", "processing", "done", "failed"]}
SUBMITTED = _obj({"tracking_id": STR, "status": STATUS})
BATCH_SUBMITTED = _obj({"tracking_ids": {**ARR, "items": STR}})
JOB = _obj({"tracking_id": STR, "model": STR, "status": STATUS,
            "result": nullable({**OBJ, "description": "The model's answer; for language "
                                "`{label, name, confidence}`."}),
            "error": nullable(STR), "model_version": nullable(STR),
            "created_at": TIME, "updated_at": TIME})
FEEDBACK = _obj({"tracking_id": STR, "model": STR, "model_version": nullable(STR),
                 "label": STR, "predicted": nullable(STR), "correct": nullable(BOOL),
                 "previous_labels": {**ARR, "items": STR}, "created_at": TIME,
                 "updated_at": TIME})
MODELS = _obj({"models": {**ARR, "items": _obj(
    {"name": STR, "family": STR, "description": STR, "trained": BOOL,
     "version": nullable(STR), "metrics": nullable(OBJ)})}})
MODEL_DETAIL = _obj({"name": STR})
QUEUE = _obj({"queues": ARR, "dead_letter": {}, "streams": {}})
MONITOR = _obj({"at": NUM, "health": OBJ, "queues": {}, "dead_letter": {}, "streams": {},
                "rates": nullable(OBJ), "latency": nullable(OBJ), "workers": OBJ,
                "unavailable_models": OBJ, "alerts": nullable(OBJ), "rules": OBJ})
HEALTH = _obj({"status": {"type": "string", "enum": ["ok", "degraded"]},
               "store": OBJ, "broker": OBJ, "models": OBJ})
SENSOR = _obj({"sensor_id": STR, "created_at": TIME, "last_reading_t": nullable(NUM),
               "last_reading": nullable(TIME), "readings": INT})
SENSOR_DETAIL = {"allOf": [SENSOR, _obj({"event_model": OBJ,
                                         "last_event": nullable(OBJ)})]}
SENSORS = _obj({"sensors": {**ARR, "items": SENSOR}})
ACCEPTED = _obj({"sensor_id": STR, "accepted": INT, "duplicates": INT})
READINGS = _obj({"sensor_id": STR, "since": NUM, "until": NUM, "readings": {**ARR, "items":
                 _obj({"t": NUM, "value": NUM, "smoothed": nullable(NUM),
                       "score": nullable(NUM), "anomalous": nullable(BOOL)},
                      {"seq": INT})}})
EVENTS = _obj({"sensor_id": STR, "events": {**ARR, "items": _obj(
    {"event_id": STR, "sensor_id": STR, "start_t": NUM, "end_t": NUM,
     "classification": nullable(OBJ)})}})
ALERTS = _obj({"alerts": {**ARR, "items": _obj(
    {"alert_id": STR, "sensor_id": STR, "kind": STR, "t": NUM, "message": STR})}})
SENSOR_LIVE = _obj({"sensor": {"anyOf": [SENSOR_DETAIL, {"type": "null"}]},
                    "alerts": ALERTS["properties"]["alerts"]})
SENSORS_LIVE = _obj({"sensors": SENSORS["properties"]["sensors"],
                     "alerts": ALERTS["properties"]["alerts"]})
