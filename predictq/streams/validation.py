"""Reading requests: `{"readings": [{"t": …, "value": …, "seq": …}, …]}` for one sensor.

Pure Python, like models/sensor/schema.py: the API validates without numpy. Every
problem is an `InvalidInput` naming the reading and the field, raised before anything
is stored.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from predictq.errors import InvalidInput, InvalidRequest
from predictq.streams.records import Reading

SENSOR_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
READING_FIELDS = ("t", "value", "seq")
# Reading times are epoch seconds; anything outside years 1970–9999 is a unit mistake
# (milliseconds, say), not a time.
MAX_T = 253_402_300_799.0


def sensor_id(value: str) -> str:
    if not SENSOR_ID.fullmatch(value):
        raise InvalidInput(
            "a sensor id is 1 to 200 characters of letters, digits, '.', '_' and '-', "
            f"starting with a letter or digit; got {value[:60]!r}")
    return value


def parse_readings(body: Any, max_readings: int) -> list[Reading]:
    """The request's readings, in time order; `InvalidRequest`/`InvalidInput` otherwise."""
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    extra = sorted(set(body) - {"readings"})
    if extra:
        raise InvalidInput(f"unexpected field(s): {', '.join(map(str, extra))}")
    raw = body.get("readings")
    if not isinstance(raw, list) or not raw:
        raise InvalidInput("'readings' must be a non-empty list of "
                           '{"t": <epoch seconds or ISO-8601>, "value": <number>}')
    if len(raw) > max_readings:
        raise InvalidInput(f"'readings' has {len(raw)} items; at most {max_readings} "
                           "are accepted per request")
    readings = [_reading(i, item) for i, item in enumerate(raw)]
    for i in range(1, len(readings)):
        before, this = readings[i - 1], readings[i]
        if this.t <= before.t:
            raise InvalidInput(f"readings[{i}].t is not after readings[{i - 1}].t: readings "
                               "must be in strictly increasing time order")
        if this.seq is not None and before.seq is not None and this.seq <= before.seq:
            raise InvalidInput(f"readings[{i}].seq is not above readings[{i - 1}].seq")
    return readings


def parse_time(value: Any, name: str) -> float:
    """Epoch seconds from a number or an ISO-8601 string (a naive one is UTC)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return _epoch(float(text), name)
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInput(f"{name} {value[:40]!r} is not an ISO-8601 date-time "
                               "(e.g. 2024-05-01T12:00:00Z) nor epoch seconds") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return _epoch(moment.timestamp(), name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{name} must be epoch seconds or an ISO-8601 string")
    return _epoch(float(value), name)


def _epoch(t: float, name: str) -> float:
    if not math.isfinite(t) or not 0 <= t <= MAX_T:
        raise InvalidInput(f"{name} {t!r} is not a time between 1970 and 9999 in epoch "
                           "seconds")
    return t


def _reading(i: int, item: Any) -> Reading:
    if not isinstance(item, dict):
        raise InvalidInput(f'readings[{i}] must be an object like {{"t": 1714564800, '
                           '"value": 3.2}')
    extra = sorted(str(k) for k in item if k not in READING_FIELDS)
    if extra:
        raise InvalidInput(f"readings[{i}] has unknown field(s) {', '.join(extra)}; the "
                           "fields are t, value and the optional seq")
    for name in ("t", "value"):
        if name not in item:
            raise InvalidInput(f"readings[{i}].{name} is required")
    t = parse_time(item["t"], f"readings[{i}].t")
    value = item["value"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"readings[{i}].value must be a finite number")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise InvalidInput(f"readings[{i}].value must be a finite number, got {value!r}"[:200])
    seq = item.get("seq")
    if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int)
                            or not 0 <= seq < 2**63):
        raise InvalidInput(f"readings[{i}].seq must be a whole number from 0 to 2^63-1")
    return Reading(t, number, seq)
