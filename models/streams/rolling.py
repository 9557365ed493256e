"""Mean and standard deviation over the last n values, O(1) per value, checkpointable.

Running sums drift after huge readings (1e100 then 1.0 leaves rounding garbage in the
sum), so they are recomputed exactly from the window every `n` updates; the countdown
is part of the state so a replay recomputes at the same readings.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any


class RollingStats:
    def __init__(self, n: int) -> None:
        self.n = n
        self.window: deque[float] = deque(maxlen=n)
        self.s1 = 0.0
        self.s2 = 0.0
        self.countdown = n

    def push(self, x: float) -> None:
        window = self.window
        if len(window) == self.n:
            old = window[0]
            self.s1 -= old
            self.s2 -= old * old
        window.append(x)
        self.s1 += x
        self.s2 += x * x
        self.countdown -= 1
        if self.countdown <= 0:
            self.s1 = math.fsum(window)
            self.s2 = math.fsum(v * v for v in window)
            self.countdown = self.n

    @property
    def full(self) -> bool:
        return len(self.window) == self.n

    def mean_std(self) -> tuple[float, float]:
        count = len(self.window)
        if not count:
            return 0.0, 0.0
        mean = self.s1 / count
        var = self.s2 / count - mean * mean
        return mean, math.sqrt(var) if var > 0.0 else 0.0

    def clear(self) -> None:
        self.window.clear()
        self.s1 = self.s2 = 0.0
        self.countdown = self.n

    def to_state(self) -> dict[str, Any]:
        return {"n": self.n, "window": list(self.window), "s1": self.s1, "s2": self.s2,
                "countdown": self.countdown}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> RollingStats:
        stats = cls(int(state["n"]))
        stats.window.extend(float(v) for v in state["window"])
        stats.s1, stats.s2 = float(state["s1"]), float(state["s2"])
        stats.countdown = int(state["countdown"])
        return stats
