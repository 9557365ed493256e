"""`hysteresis`: the seed's 3σ edge rule made robust for real quiet stretches.

What it changes from `sigma` (models/streams/baselines.py), each for a failure seen on
the evaluation streams:

- A noise floor. Quiet stretches of a real meter are nearly constant once smoothed, so
  their σ is tiny and `sigma` opens an event at every blip. Here the scale is
  max(σ of the smoothed baseline, `floor` × σ of the raw quiet readings).
- Hysteresis. An event opens when the smoothed signal departs by more than `k_on`
  scales, and is considered back only within `k_off` (< `k_on`) scales: appliances dip
  inside their own signature, and one threshold makes them flicker open and shut.
- Merging and a minimum length. An event closes only after `merge_gap` quiet readings
  (a dip shorter than that stays inside the event), and events shorter than `min_len`
  readings are dropped as blips.
- Boundaries without the smoothing lag. The start is backdated to the first reading of
  the run above `k_off` that led to the trigger; the end is the last reading whose
  smoothing window still held an above-`k_off` departure, minus the window's lag.

The cost: an event is reported (`closed`) `merge_gap` readings after it ended.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from models.streams.rolling import RollingStats
from models.streams.types import ClosedEvent

_STD_FLOOR = 1e-9


class HysteresisEvents:
    name = "hysteresis"
    version = "1"

    def __init__(self, smooth: int = 8, lag: int = 10, baseline: int = 100,
                 k_on: float = 5.0, k_off: float = 3.5, floor: float = 0.1,
                 min_len: int = 64, merge_gap: int = 64) -> None:
        self.smooth, self.lag = smooth, lag
        self.k_on, self.k_off, self.floor = k_on, k_off, floor
        self.min_len, self.merge_gap = min_len, merge_gap
        self.raw: deque[float] = deque(maxlen=smooth)
        self.times: deque[float] = deque(maxlen=smooth)  # t of the readings in `raw`
        self.delay: deque[float] = deque()
        self.stats = RollingStats(baseline)  # smoothed, lagged, quiet readings
        self.spread = RollingStats(baseline)  # raw quiet readings
        self.in_event = False
        self.rise_t: float | None = None  # first reading of the current run above k_off
        self.rise_run = 0  # readings in that run
        self.start_t = 0.0
        self.end_t = 0.0
        self.quiet_run = 0
        self.ref = (0.0, 0.0)  # baseline (mean, scale) frozen at the event's start

    def _scale(self, mean: float) -> tuple[float, float]:
        _, std = self.stats.mean_std()
        raw_std = self.spread.mean_std()[1]
        return mean, max(std, self.floor * raw_std, _STD_FLOOR * (1.0 + abs(mean)))

    def update(self, t: float, x: float) -> tuple[float, bool, ClosedEvent | None]:
        raw = self.raw
        raw.append(x)
        self.times.append(t)
        smoothed = sum(raw) / len(raw)
        closed = None
        if self.in_event:
            mean, scale = self.ref
            if abs(smoothed - mean) > self.k_off * scale:
                self.quiet_run = 0
                # The last window still holding the event: its oldest reading is the end.
                self.end_t = self.times[0] if len(self.times) == self.smooth else t
            else:
                self.quiet_run += 1
                if self.quiet_run >= self.merge_gap:
                    self.in_event = False
                    self.delay.clear()
                    self.rise_t = None
                    if self._length() >= self.min_len:
                        closed = ClosedEvent(self.start_t, self.end_t)
        elif self.stats.full:
            mean, scale = self._scale(self.stats.mean_std()[0])
            departure = abs(smoothed - mean)
            if departure > self.k_off * scale:
                if self.rise_t is None:
                    self.rise_t = t
                    self.rise_run = 0
                self.rise_run += 1
                if departure > self.k_on * scale:
                    self.in_event, self.ref, self.quiet_run = True, (mean, scale), 0
                    self.start_t, self.end_t = self.rise_t, t
                    self.delay.clear()
            else:
                self.rise_t = None
        # A rise that has not reached k_on is kept out of the baseline (else a ramp
        # teaches the baseline its own edge), unless it lasts: then it is the new level.
        if self.rise_t is not None and self.rise_run > self.merge_gap:
            self.rise_t = None
        if not self.in_event and self.rise_t is None:
            self.spread.push(x)
            self.delay.append(smoothed)
            if len(self.delay) > self.lag:
                self.stats.push(self.delay.popleft())
        return smoothed, self.in_event, closed

    def _length(self) -> float:
        # Timestamps are seconds and readings come about every second: the length in
        # readings is the time span. A sensor sampling faster should scale min_len.
        return self.end_t - self.start_t + 1.0

    def to_state(self) -> dict[str, Any]:
        return {
            "params": [self.smooth, self.lag, self.stats.n, self.k_on, self.k_off,
                       self.floor, self.min_len, self.merge_gap],
            "raw": list(self.raw), "times": list(self.times), "delay": list(self.delay),
            "stats": self.stats.to_state(), "spread": self.spread.to_state(),
            "in_event": self.in_event, "rise_t": self.rise_t, "rise_run": self.rise_run,
            "start_t": self.start_t,
            "end_t": self.end_t, "quiet_run": self.quiet_run, "ref": list(self.ref),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> HysteresisEvents:
        smooth, lag, baseline, k_on, k_off, floor, min_len, merge_gap = state["params"]
        d = cls(int(smooth), int(lag), int(baseline), float(k_on), float(k_off),
                float(floor), int(min_len), int(merge_gap))
        d.raw.extend(float(v) for v in state["raw"])
        d.times.extend(float(v) for v in state["times"])
        d.delay.extend(float(v) for v in state["delay"])
        d.stats = RollingStats.from_state(state["stats"])
        d.spread = RollingStats.from_state(state["spread"])
        d.in_event = bool(state["in_event"])
        d.rise_t = None if state["rise_t"] is None else float(state["rise_t"])
        d.rise_run = int(state["rise_run"])
        d.start_t, d.end_t = float(state["start_t"]), float(state["end_t"])
        d.quiet_run = int(state["quiet_run"])
        d.ref = (float(state["ref"][0]), float(state["ref"][1]))
        return d
