"""The `anomaly` model's input schema and batch prediction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from models.sensor.schema import WindowBounds, event_schema, validate_event

# At least twice the longest subsequence the detector compares (128), so every reading
# is seen in full context; at most 8,192 readings (about 160 KB of JSON).
BOUNDS = WindowBounds(min_readings=256, max_readings=8192)


def input_schema(**_: Any) -> dict[str, Any]:
    """The JSON Schema the API validates an input with (models/sensor/schema.py)."""
    return event_schema(BOUNDS, "AnomalyInput")


def validate(input: Any, **_: Any) -> dict[str, Any]:
    """A sensor event whose readings fit BOUNDS; InvalidModelInput otherwise."""
    return validate_event(input, BOUNDS)


def predict(estimator: Any, inputs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One result per input, in order, from one nearest-neighbour search per length."""
    if not inputs:
        return []
    results = []
    for points in estimator.score_points([item["readings"] for item in inputs]):
        flagged = (points > 1.0).nonzero()[0]
        results.append({
            # 1.0 is the decision threshold: the most unusual subsequence seen in training.
            "score": round(float(points.max()), 4),
            "anomalous": bool(flagged.size),
            "anomalous_points": [int(i) for i in flagged],
        })
    return results
