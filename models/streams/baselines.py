"""The baselines, kept simple on purpose: the seed design's event rule and a 3σ z-score.

`SigmaEvents` is our reading of the seed ("smoothing + edge detection"): smooth with a
moving average; an event STARTS when the smoothed signal departs from the running
average by more than 3 standard deviations, that average being taken over readings that
ended 10 points earlier (the seed "looked 10 points ahead of the average", so a rising
edge is not absorbed into its own reference); it ENDS at the first reading whose
smoothed value is back within 3 standard deviations of the average as it stood when
the event began (the "steady state" it left). Nothing else: no minimum duration, no
hysteresis, no merging.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from models.streams.rolling import RollingStats
from models.streams.types import ClosedEvent

# A perfectly constant background has std 0: any float jitter would start an event.
_STD_FLOOR = 1e-9


class SigmaEvents:
    name = "sigma"
    version = "1"

    def __init__(self, smooth: int = 8, lag: int = 10, baseline: int = 100,
                 k: float = 3.0) -> None:
        self.smooth, self.lag, self.k = smooth, lag, k
        self.raw: deque[float] = deque(maxlen=smooth)
        self.delay: deque[float] = deque()
        self.stats = RollingStats(baseline)
        self.in_event = False
        self.start_t = 0.0
        self.ref = (0.0, 0.0)  # baseline (mean, std) frozen at the event's start
        self.prev_t = 0.0

    def update(self, t: float, x: float) -> tuple[float, bool, ClosedEvent | None]:
        raw = self.raw
        raw.append(x)
        smoothed = sum(raw) / len(raw)
        closed = None
        if self.in_event:
            mean, std = self.ref
            if abs(smoothed - mean) <= self.k * max(std, _STD_FLOOR * (1.0 + abs(mean))):
                closed = ClosedEvent(self.start_t, self.prev_t)
                self.in_event = False
        elif self.stats.full:
            mean, std = self.stats.mean_std()
            if abs(smoothed - mean) > self.k * max(std, _STD_FLOOR * (1.0 + abs(mean))):
                self.in_event, self.start_t, self.ref = True, t, (mean, std)
                self.delay.clear()
        if not self.in_event and closed is None:
            self.delay.append(smoothed)
            if len(self.delay) > self.lag:
                self.stats.push(self.delay.popleft())
        self.prev_t = t
        return smoothed, self.in_event, closed

    def to_state(self) -> dict[str, Any]:
        return {"smooth": self.smooth, "lag": self.lag, "k": self.k, "raw": list(self.raw),
                "delay": list(self.delay), "stats": self.stats.to_state(),
                "in_event": self.in_event, "start_t": self.start_t, "ref": list(self.ref),
                "prev_t": self.prev_t}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SigmaEvents:
        d = cls(int(state["smooth"]), int(state["lag"]), int(state["stats"]["n"]),
                float(state["k"]))
        d.raw.extend(float(v) for v in state["raw"])
        d.delay.extend(float(v) for v in state["delay"])
        d.stats = RollingStats.from_state(state["stats"])
        d.in_event, d.start_t = bool(state["in_event"]), float(state["start_t"])
        d.ref = (float(state["ref"][0]), float(state["ref"][1]))
        d.prev_t = float(state["prev_t"])
        return d


class ZScoreAnomaly:
    """A reading more than 3 σ from the mean of the `window` readings before it."""

    name = "zscore"
    version = "1"
    threshold = 3.0

    def __init__(self, window: int = 100) -> None:
        self.stats = RollingStats(window)

    def update(self, x: float) -> tuple[float, bool]:
        stats = self.stats
        score = 0.0
        if stats.full:  # warm-up: the first `window` readings are never anomalous
            mean, std = stats.mean_std()
            score = abs(x - mean) / max(std, _STD_FLOOR * (1.0 + abs(mean)))
            score = min(score, 1e300)
        stats.push(x)
        return score, score > self.threshold

    def to_state(self) -> dict[str, Any]:
        return {"stats": self.stats.to_state()}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ZScoreAnomaly:
        d = cls(int(state["stats"]["n"]))
        d.stats = RollingStats.from_state(state["stats"])
        return d
