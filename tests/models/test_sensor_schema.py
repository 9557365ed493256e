"""The sensor event schema, as both sensor models validate it (no trained model needed)."""

from __future__ import annotations

import json
import math

import pytest

from models.anomaly import model as anomaly
from models.appliance import model as appliance
from models.errors import InvalidModelInput, ModelError


def event(n: int = 256, **overrides: object) -> dict:
    base = {"sensor_id": "plug-7", "timestamp": "2024-05-01T12:00:00Z",
            "sampling_period_ms": 10_000, "readings": [float(i % 7) for i in range(n)]}
    base.update(overrides)
    return base


def test_a_valid_event_comes_back_normalised() -> None:
    raw = event(readings=[1, 2.5, -3] * 100, features={"temperature_c": 21, "rssi": -70.5},
                timestamp=1714564800)

    got = anomaly.validate(raw, max_chars=10)

    assert got["readings"][:3] == [1.0, 2.5, -3.0]
    assert all(type(v) is float for v in got["readings"])
    assert got["features"] == {"temperature_c": 21.0, "rssi": -70.5}
    assert got["timestamp"] == 1714564800.0
    assert got["sampling_period_ms"] == 10_000.0
    assert got["sensor_id"] == "plug-7"
    assert "features" not in anomaly.validate(event())


@pytest.mark.parametrize("stamp", ["2024-05-01T12:00:00Z", "2024-05-01T12:00:00.250+02:00",
                                   "2024-05-01", 0, 1714564800.5])
def test_timestamps_iso_or_epoch(stamp: object) -> None:
    assert anomaly.validate(event(timestamp=stamp))["timestamp"] is not None


def test_window_bounds_are_each_models_own() -> None:
    assert anomaly.validate(event(anomaly.BOUNDS.min_readings))
    assert anomaly.validate(event(anomaly.BOUNDS.max_readings))
    assert appliance.validate(event(appliance.BOUNDS.min_readings))
    assert appliance.validate(event(1460))
    assert appliance.validate(event(appliance.BOUNDS.max_readings))


BAD = [
    ("not an object", ["1", 2], "input must be an object"),
    ("missing sensor_id", {k: v for k, v in event().items() if k != "sensor_id"},
     "input.sensor_id is required"),
    ("empty sensor_id", event(sensor_id="  "), "sensor_id must be a non-empty string"),
    ("numeric sensor_id", event(sensor_id=7), "sensor_id must be a non-empty string"),
    ("long sensor_id", event(sensor_id="x" * 201), "sensor_id is longer than 200"),
    ("missing timestamp", {k: v for k, v in event().items() if k != "timestamp"},
     "input.timestamp is required"),
    ("bad timestamp", event(timestamp="yesterday"), "not an ISO-8601 date-time"),
    ("bool timestamp", event(timestamp=True), "timestamp must be .* got a boolean"),
    ("missing period", {k: v for k, v in event().items() if k != "sampling_period_ms"},
     "input.sampling_period_ms is required"),
    ("zero period", event(sampling_period_ms=0), "sampling_period_ms must be a positive"),
    ("negative period", event(sampling_period_ms=-5), "sampling_period_ms must be a positive"),
    ("NaN period", event(sampling_period_ms=math.nan), "sampling_period_ms must be .* nan"),
    ("string period", event(sampling_period_ms="1000"), "got a string"),
    ("missing readings", {k: v for k, v in event().items() if k != "readings"},
     "input.readings is required"),
    ("readings not a list", event(readings="1,2,3"), "readings must be a list of numbers"),
    ("string reading", event(readings=[1.0] * 10 + ["2"] + [1.0] * 245),
     r"readings\[10\] must be a finite number, got a string"),
    ("bool reading", event(readings=[True] + [1.0] * 255), r"readings\[0\] .* got a boolean"),
    ("null reading", event(readings=[1.0] * 255 + [None]), r"readings\[255\] .* got null"),
    ("NaN reading", event(readings=[1.0, math.nan] + [1.0] * 254), r"readings\[1\] .* nan"),
    ("Infinity reading", event(readings=[math.inf] + [1.0] * 255), r"readings\[0\] .* inf"),
    ("-Infinity reading", event(readings=[-math.inf] + [1.0] * 255), r"readings\[0\] .* -inf"),
    ("int too big for a float", event(readings=[10**400] + [1.0] * 255),
     r"readings\[0\] must be a finite number"),
    ("nested reading", event(readings=[[1.0]] * 256), r"readings\[0\] .* got a list"),
    ("window too short", event(255), "has 255 readings; this model accepts between 256"),
    ("window too long", event(8193), "has 8193 readings; this model accepts between 256 and 8192"),
    ("unknown fields", event(unit="W", label="x"), "unknown field.*label, unit"),
    ("features not an object", event(features=[1, 2]), "features must be an object"),
    ("NaN feature", event(features={"t": math.nan}), "features.t must be a finite number"),
    ("string feature", event(features={"t": "warm"}), "features.t .* got a string"),
]


@pytest.mark.parametrize(("case", "value", "message"), BAD, ids=[b[0] for b in BAD])
def test_invalid_events_get_a_clear_message(case: str, value: object, message: str) -> None:
    with pytest.raises(InvalidModelInput, match=message) as caught:
        anomaly.validate(value, max_chars=10)
    assert isinstance(caught.value, ModelError)


def test_appliance_windows_must_be_whole_frames_within_bounds() -> None:
    with pytest.raises(InvalidModelInput, match=r"1461 readings.*a multiple of 4"):
        appliance.validate(event(1461))
    with pytest.raises(InvalidModelInput, match=r"724 readings; .*between 728 and 5840"):
        appliance.validate(event(724))
    with pytest.raises(InvalidModelInput, match="5844 readings"):
        appliance.validate(event(5844))


def test_nan_as_json_carries_it_is_rejected() -> None:
    # Python's json module (and so Flask) parses the non-standard NaN literal.
    body = json.loads('{"sensor_id": "s", "timestamp": 0, "sampling_period_ms": 1, '
                      '"readings": [' + ", ".join(["NaN"] + ["1"] * 255) + "]}")
    with pytest.raises(InvalidModelInput, match=r"readings\[0\]"):
        anomaly.validate(body)
