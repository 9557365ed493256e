"""The `appliance` model's held-out set: the official ACSF1 test split, which train.py
evaluates on, as the validated sensor events `spec.predict` takes."""

from __future__ import annotations

import functools
from typing import Any

from models.appliance import data
from models.appliance.model import validate

# ACSF1 states no sampling rate and the model reads only the readings; this value just
# makes each series a valid event (evaluate_events.py uses the same).
SAMPLING_PERIOD_MS = 1000


@functools.cache
def _events() -> tuple[tuple[dict[str, Any], ...], tuple[str, ...]]:
    _, test = data.load()
    events = tuple(
        validate(
            {
                "sensor_id": f"acsf1-test-{row}",
                "timestamp": 0,
                "sampling_period_ms": SAMPLING_PERIOD_MS,
                "readings": [float(v) for v in series],
            }
        )
        for row, series in enumerate(test.X)
    )
    return events, tuple(str(label) for label in test.y)


def heldout() -> tuple[list[dict[str, Any]], list[str]]:
    """(events, class codes) of the 100 test series, in the file's order. Built once per
    process; the lists and events are fresh copies, so a caller may change them."""
    events, labels = _events()
    return [{**event, "readings": list(event["readings"])} for event in events], list(labels)
