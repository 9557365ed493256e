"""`discord`: an online nearest-neighbour subsequence score against recent normal shapes.

Every `stride` readings the last `m` readings are z-normalised and reduced to `dims`
segment means (PAA). Their distance to the nearest shape in a bounded reservoir of
earlier *normal* shapes is the raw score: a shape never seen before (a discord) is far
from all of them. Shapes enter the reservoir only once they no longer overlap the
present window (no trivial self-matches) and only if they were not themselves flagged,
so an anomaly does not teach the detector that it is normal. The reservoir is first in,
first out: the detector forgets what it has not seen for `reservoir * stride` readings.

The threshold adapts: the log-distance of normal shapes is tracked by an exponentially
weighted mean and variance; a reading's score is how many standard deviations its
log-distance lies above that mean, and it is anomalous above `threshold`. Between two
evaluations a reading carries the score of the last one.

Deterministic, and checkpointable exactly: shapes are rounded to 4 decimals as they are
made, so the JSON state holds exactly what the detector holds in memory (and stays
small: about 24 KB with the defaults).
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

# A window this flat has no shape; it becomes the all-zero shape.
_FLAT = 1e-9
# log(0) guard for identical shapes.
_EPS = 1e-6


class DiscordAnomaly:
    name = "discord"
    version = "1"

    def __init__(self, m: int = 32, dims: int = 8, stride: int = 4, reservoir: int = 256,
                 warmup: int = 32, alpha: float = 0.02, threshold: float = 2.75,
                 novelty: float = 1e9) -> None:
        if m % dims:
            raise ValueError("m must be a multiple of dims")
        self.m, self.dims, self.stride, self.capacity = m, dims, stride, reservoir
        self.warmup, self.alpha, self.threshold = warmup, alpha, threshold
        self.novelty = novelty
        self.raw: deque[float] = deque(maxlen=m)
        self.count = 0  # readings seen
        self.shapes: list[list[float]] = []  # the reservoir, a ring
        self.oldest = 0  # ring position the next shape overwrites once full
        self.pending: deque[tuple[list[float], bool]] = deque()
        self.mu = 0.0
        self.var = 0.0
        self.seen = 0  # log-distances folded into (mu, var)
        self.score = 0.0
        self.flag = False
        self._matrix: np.ndarray | None = None  # cache of self.shapes

    # -- the per-reading path -------------------------------------------------------
    def update(self, x: float) -> tuple[float, bool]:
        self.raw.append(x)
        self.count += 1
        if self.count % self.stride == 0 and len(self.raw) == self.m:
            self._evaluate()
        return self.score, self.flag

    def _evaluate(self) -> None:
        shape = self._shape()
        z = 0.0
        if len(self.shapes) < self.warmup:
            self.score, self.flag = 0.0, False
        else:
            d = self._nearest(shape)
            z = math.log(d + _EPS)
            sd = max(math.sqrt(self.var), 1e-3)
            score = (z - self.mu) / sd if self.seen >= 2 else 0.0
            self.score, self.flag = score, score > self.threshold
            if not self.flag:
                self._learn_threshold(z)
        # With `novelty` set, near-duplicates of a remembered shape are not stored, so the
        # reservoir reaches further back. Off by default (1e9): it did not help on the
        # evaluation series (ANOMALY_MODEL_CARD.md).
        keep = not self.flag and (self.seen < 2 or z > self.mu - self.novelty)
        self.pending.append((shape, not keep))
        # A shape overlaps the present window for m / stride evaluations.
        if len(self.pending) > self.m // self.stride:
            old, flagged = self.pending.popleft()
            if not flagged:
                self._remember(old)

    def _shape(self) -> list[float]:
        values = list(self.raw)
        n = len(values)
        mean = math.fsum(values) / n
        var = math.fsum((v - mean) * (v - mean) for v in values) / n
        std = math.sqrt(var)
        if not std > _FLAT * (1.0 + abs(mean)) or not math.isfinite(std):
            return [0.0] * self.dims
        width = n // self.dims
        scale = 1.0 / (std * width)
        return [round((sum(values[i:i + width]) - mean * width) * scale, 4)
                for i in range(0, n, width)]

    def _nearest(self, shape: list[float]) -> float:
        if self._matrix is None:
            self._matrix = np.asarray(self.shapes, dtype=np.float64)
        diff = self._matrix - np.asarray(shape, dtype=np.float64)
        return float(np.sqrt(np.min(np.einsum("ij,ij->i", diff, diff))))

    def _learn_threshold(self, z: float) -> None:
        self.seen += 1
        # Plain averages until 1/alpha values are in, then exponential forgetting.
        a = max(self.alpha, 1.0 / self.seen)
        delta = z - self.mu
        self.mu += a * delta
        self.var = (1.0 - a) * (self.var + a * delta * delta)

    def _remember(self, shape: list[float]) -> None:
        if len(self.shapes) < self.capacity:
            self.shapes.append(shape)
        else:
            self.shapes[self.oldest] = shape
            self.oldest = (self.oldest + 1) % self.capacity
        self._matrix = None

    # -- checkpoints -------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        return {
            "params": [self.m, self.dims, self.stride, self.capacity, self.warmup,
                       self.alpha, self.threshold, self.novelty],
            "raw": list(self.raw), "count": self.count, "shapes": self.shapes,
            "oldest": self.oldest, "pending": [[s, f] for s, f in self.pending],
            "mu": self.mu, "var": self.var, "seen": self.seen, "score": self.score,
            "flag": self.flag,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> DiscordAnomaly:
        m, dims, stride, capacity, warmup, alpha, threshold, novelty = state["params"]
        d = cls(int(m), int(dims), int(stride), int(capacity), int(warmup), float(alpha),
                float(threshold), float(novelty))
        d.raw.extend(float(v) for v in state["raw"])
        d.count, d.oldest, d.seen = int(state["count"]), int(state["oldest"]), int(state["seen"])
        d.shapes = [[float(v) for v in s] for s in state["shapes"]]
        d.pending.extend(([float(v) for v in s], bool(f)) for s, f in state["pending"])
        d.mu, d.var, d.score = float(state["mu"]), float(state["var"]), float(state["score"])
        d.flag = bool(state["flag"])
        return d
