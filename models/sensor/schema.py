"""The sensor event: one window of readings from one sensor, validated for a model.

`{"sensor_id": str, "timestamp": ISO-8601 string | epoch number, "sampling_period_ms":
positive number, "readings": [number, ...], "features": {name: number}}` — `features`
is optional. Each model states how many readings a window may hold; everything else is
the same for every sensor model, so the API gives the same messages for both.

Pure Python on purpose: the API validates without importing numpy or scikit-learn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.errors import InvalidModelInput

FIELDS = ("sensor_id", "timestamp", "sampling_period_ms", "readings", "features")
REQUIRED = ("sensor_id", "timestamp", "sampling_period_ms", "readings")
MAX_SENSOR_ID_CHARS = 200
MAX_FEATURES = 64
MAX_FEATURE_NAME_CHARS = 100


@dataclass(frozen=True)
class WindowBounds:
    """How many readings a model accepts in one window, and in what unit."""

    min_readings: int
    max_readings: int
    multiple_of: int = 1  # e.g. 4 when each time step carries 4 interleaved channels

    def describe(self) -> str:
        text = f"between {self.min_readings} and {self.max_readings} readings"
        if self.multiple_of > 1:
            text += f", a multiple of {self.multiple_of}"
        return text


def event_schema(bounds: WindowBounds, title: str) -> dict[str, Any]:
    """The JSON Schema (2020-12) of an event for a model with these bounds: the API
    validates every request with it and publishes it in the OpenAPI document;
    `validate_event` then normalises, and explains a refusal in a person's words. A
    window's multiple (4 channels) is beyond JSON Schema: it is in the description."""
    finite = {"type": "number", "description": "A finite number."}
    return {
        "type": "object",
        "title": title,
        "description": "One window of readings from one sensor.",
        "properties": {
            "sensor_id": {"type": "string", "minLength": 1,
                          "maxLength": MAX_SENSOR_ID_CHARS, "pattern": r"\S"},
            "timestamp": {"description": "ISO-8601 date-time or epoch seconds.",
                          "anyOf": [{"type": "string", "format": "date-time"},
                                    {"type": "number"}]},
            "sampling_period_ms": {"type": "number", "exclusiveMinimum": 0},
            "readings": {"type": "array", "items": finite,
                         "minItems": bounds.min_readings, "maxItems": bounds.max_readings,
                         "description": f"The window: {bounds.describe()}."},
            "features": {"type": "object", "maxProperties": MAX_FEATURES,
                         "propertyNames": {"minLength": 1,
                                           "maxLength": MAX_FEATURE_NAME_CHARS},
                         "additionalProperties": finite},
        },
        "required": list(REQUIRED),
        "additionalProperties": False,
    }


def validate_event(input: Any, bounds: WindowBounds) -> dict[str, Any]:
    """The event with readings as floats; InvalidModelInput (for a person) otherwise."""
    if not isinstance(input, dict):
        raise InvalidModelInput(
            'input must be an object like {"sensor_id": "...", "timestamp": "...", '
            '"sampling_period_ms": 1000, "readings": [...]}'
        )
    extra = sorted(str(key) for key in input if key not in FIELDS)
    if extra:
        raise InvalidModelInput(
            f"input has unknown field(s) {', '.join(extra)}; the fields are "
            f"{', '.join(FIELDS)}"
        )
    missing = [name for name in REQUIRED if name not in input]
    if missing:
        raise InvalidModelInput(f"input.{missing[0]} is required")
    event = {
        "sensor_id": _sensor_id(input["sensor_id"]),
        "timestamp": _timestamp(input["timestamp"]),
        "sampling_period_ms": _positive("sampling_period_ms", input["sampling_period_ms"]),
        "readings": _readings(input["readings"], bounds),
    }
    if "features" in input:
        event["features"] = _features(input["features"])
    return event


def _sensor_id(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidModelInput("input.sensor_id must be a non-empty string")
    if len(value) > MAX_SENSOR_ID_CHARS:
        raise InvalidModelInput(
            f"input.sensor_id is longer than {MAX_SENSOR_ID_CHARS} characters"
        )
    return value


def _timestamp(value: Any) -> str | float:
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidModelInput(
                f"input.timestamp {value[:40]!r} is not an ISO-8601 date-time "
                "(e.g. 2024-05-01T12:00:00Z) nor an epoch number"
            ) from None
        return value.strip()
    return _finite("timestamp", value, "an ISO-8601 string or an epoch number")


def _positive(name: str, value: Any) -> float:
    number = _finite(name, value, "a positive number")
    if number <= 0:
        raise InvalidModelInput(f"input.{name} must be a positive number, got {number:g}")
    return number


def _readings(value: Any, bounds: WindowBounds) -> list[float]:
    if not isinstance(value, list):
        raise InvalidModelInput("input.readings must be a list of numbers")
    n = len(value)
    if n < bounds.min_readings or n > bounds.max_readings or n % bounds.multiple_of:
        raise InvalidModelInput(
            f"input.readings has {n} readings; this model accepts {bounds.describe()}"
        )
    return [_finite(f"readings[{i}]", item, "a finite number") for i, item in enumerate(value)]


def _features(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        raise InvalidModelInput("input.features must be an object of name → number")
    if len(value) > MAX_FEATURES:
        raise InvalidModelInput(f"input.features has more than {MAX_FEATURES} entries")
    out = {}
    for name, item in value.items():
        if not isinstance(name, str) or not name or len(name) > MAX_FEATURE_NAME_CHARS:
            raise InvalidModelInput(
                f"input.features names must be 1 to {MAX_FEATURE_NAME_CHARS} characters"
            )
        out[name] = _finite(f"features.{name}", item, "a finite number")
    return out


def _finite(name: str, value: Any, what: str) -> float:
    # bool is an int subclass: true/false are never readings.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidModelInput(f"input.{name} must be {what}, got {_kind(value)}")
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        number = math.inf
    if not math.isfinite(number):
        # Python's json accepts NaN and Infinity, which no model can use.
        raise InvalidModelInput(f"input.{name} must be {what}, got {value!r}"[:200])
    return number


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
