"""What a stream model hands back for each reading."""

from __future__ import annotations

from dataclasses import dataclass

# Readings are saturated here before any detector sees them: sums and squares of
# ±1e100 stay finite, so no state ever holds inf/NaN (JSON could not carry it).
LIMIT = 1e100


@dataclass(frozen=True)
class ClosedEvent:
    start_t: float  # time of the first reading of the event
    end_t: float  # time of the last reading of the event


@dataclass(frozen=True)
class Step:
    smoothed: float  # the smoothed value after this reading (what a chart draws)
    in_event: bool  # True while an event is open after this reading
    closed: ClosedEvent | None  # an event that ended with this reading, else None
    score: float  # anomaly score of this reading (finite, never NaN/inf)
    anomalous: bool  # score above the detector's threshold

