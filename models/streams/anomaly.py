"""`discord`: a point score and a subsequence (discord) score, on one robust-z scale.

Two components score every reading; `score` is the larger, capped at `CAP` (100), and
the reading is `anomalous` above `threshold` (20). Normal behaviour scores about 0-10
(ECG R-peaks reach 12); 20 is about 1.7 x the largest point score on the anomaly-free
training prefixes of the two evaluation series (ANOMALY_MODEL_CARD.md).

**Point component** (every reading, O(1) state): the reading's distance from the recent
level and its distance from the previous reading, each in robust standard deviations;
the point score is the smaller of the two. Level and spreads are exponentially weighted
(level: mean and mean absolute deviation, α = 0.005, about 200 readings of memory; step:
mean absolute difference of consecutive readings, α = 0.02), σ = 1.2533 × mean absolute
deviation (exact for a Gaussian), and every update is winsorised at 4 σ so a spike
barely moves them. Needing both distances makes the score local: a lone spike is far
from the level *and* from its predecessor, so it scores on its own reading; the reading
after it is near the level again and does not. A sharp but familiar swing (an ECG
R-peak) stays within the level's spread; a step to a new level scores on its first
reading only, then each reading is close to its predecessor. Warm-up: 64 readings.

**Subsequence component** (every `stride` readings): the last `m` readings are
z-normalised and reduced to `dims` segment means (PAA). Their distance to the nearest
shape in a bounded reservoir of earlier *normal* shapes is the raw score: a shape never
seen before (a discord) is far from all of them. Shapes enter the reservoir only once
they no longer overlap the present window (no trivial self-matches) and only if the
window was not itself unusual, so an anomaly does not teach the detector that it is
normal. The reservoir is first in, first out. The log-distance of normal shapes is
tracked by an exponentially weighted mean and variance; a window's z is how many
standard deviations (floored at 0.25 in log-distance) its log-distance lies above that
mean; it is unusual above `shape_threshold` (2.75). That z is put on the point scale by
multiplying by `threshold / shape_threshold`, so both components share one threshold.
Localisation: a window spans `m` readings, but only the reading at which it became more
unusual than every earlier window overlapping it gets the window's score — the newest
readings are what made it new; the following windows, which still contain the same
unusual readings, add nothing unless they are more unusual still.

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
# Distances between z-normalised 8-mean shapes below this are "identical" (shapes are
# rounded to 4 decimals anyway); it bounds the log-distance from below.
_EPS = 1e-3
# The log-distance spread is never taken below this: an exactly repeating signal would
# otherwise have spread 0 and any new shape an unbounded z.
_SD_FLOOR = 0.25
# Spreads are never taken below this fraction of the level (a constant signal).
_REL_FLOOR = 1e-9
# σ of a Gaussian / its mean absolute deviation.
_MAD_TO_SD = 1.2533141373155003
CAP = 100.0
# A reading whose point score reaches this fraction of the threshold has the window
# scored at once, off the stride, so a short shape anomaly is flagged on its reading.
_EARLY = 0.25
# While an unusual window overlaps the present one, a new window counts only if its z is
# this many times as large.
_AGAIN = 1.25


class DiscordAnomaly:
    name = "discord"
    version = "2"
    threshold = 20.0  # anomalous above this score (both components)
    cap = CAP  # scores never exceed this

    def __init__(self, m: int = 32, dims: int = 8, stride: int = 4, reservoir: int = 256,
                 warmup: int = 32, alpha: float = 0.02, shape_threshold: float = 2.75,
                 novelty: float = 1e9, level_alpha: float = 0.005, step_alpha: float = 0.02,
                 point_warmup: int = 64, clip: float = 4.0) -> None:
        if m % dims:
            raise ValueError("m must be a multiple of dims")
        self.m, self.dims, self.stride, self.capacity = m, dims, stride, reservoir
        self.warmup, self.alpha, self.shape_threshold = warmup, alpha, shape_threshold
        self.novelty = novelty
        self.level_alpha, self.step_alpha = level_alpha, step_alpha
        self.point_warmup, self.clip = point_warmup, clip
        self.raw: deque[float] = deque(maxlen=m)
        self.count = 0  # readings seen
        self.shapes: list[list[float]] = []  # the reservoir, a ring
        self.oldest = 0  # ring position the next shape overwrites once full
        self.pending: deque[tuple[list[float], bool]] = deque()
        self.recent: deque[float] = deque(maxlen=m // stride - 1)  # z of overlapping windows
        self.mu = 0.0
        self.var = 0.0
        self.seen = 0  # log-distances folded into (mu, var)
        # the point component
        self.level = 0.0
        self.dev = 0.0  # mean |x - level|
        self.step_dev = 0.0  # mean |x - previous x|
        self.prev = 0.0
        self._matrix: np.ndarray | None = None  # cache of self.shapes

    # -- the per-reading path -------------------------------------------------------
    def update(self, x: float) -> tuple[float, bool]:
        self.raw.append(x)
        self.count += 1
        score = self._point(x)
        if len(self.raw) == self.m:
            if self.count % self.stride == 0:
                window = self._evaluate()
            elif score >= _EARLY * self.threshold and len(self.shapes) >= self.warmup:
                window = self._localise(self._score_window(self._shape()))
            else:
                return score, score > self.threshold
            if window > score:
                score = window
        return score, score > self.threshold

    def _point(self, x: float) -> float:
        n = self.count  # already counts x
        if n == 1:
            self.level = self.prev = x
            return 0.0
        r = x - self.level
        dx = x - self.prev
        score = 0.0
        if n > self.point_warmup:
            floor = _REL_FLOOR * (1.0 + abs(self.level))
            sd = _MAD_TO_SD * self.dev
            sd = sd if sd > floor else floor
            step_floor = _REL_FLOOR * (1.0 + abs(self.prev))
            step_sd = _MAD_TO_SD * self.step_dev
            step_sd = step_sd if step_sd > step_floor else step_floor
            score = min(abs(r) / sd, abs(dx) / step_sd, CAP)
            # winsorise what is learnt: a spike barely moves the level and spreads
            lim = self.clip * sd
            r = lim if r > lim else (-lim if r < -lim else r)
            lim = self.clip * step_sd
            dx = lim if dx > lim else (-lim if dx < -lim else dx)
        # plain averages until 1/alpha values are in, then exponential forgetting
        a = 1.0 / n
        la = self.level_alpha if self.level_alpha > a else a
        sa = self.step_alpha if self.step_alpha > a else a
        self.level += la * r
        self.dev += la * (abs(r) - self.dev)
        self.step_dev += sa * (abs(dx) - self.step_dev)
        self.prev = x
        return score

    def _evaluate(self) -> float:
        """Score the current window; its score on the point scale if it is new, else 0."""
        shape = self._shape()
        z = 0.0
        score = 0.0
        unusual = False
        if len(self.shapes) >= self.warmup:
            score, z = self._score_window(shape)
            unusual = score > self.shape_threshold
            if not unusual:
                self._learn_threshold(z)
        # With `novelty` set, near-duplicates of a remembered shape are not stored, so the
        # reservoir reaches further back. Off by default (1e9): it did not help on the
        # evaluation series (ANOMALY_MODEL_CARD.md).
        keep = not unusual and (self.seen < 2 or z > self.mu - self.novelty)
        self.pending.append((shape, not keep))
        # A shape overlaps the present window for m / stride evaluations.
        if len(self.pending) > self.m // self.stride:
            old, flagged = self.pending.popleft()
            if not flagged:
                self._remember(old)
        return self._localise((score, z))

    def _score_window(self, shape: list[float]) -> tuple[float, float]:
        """(z of the window against recent normal log-distances, its log-distance)."""
        z = math.log(self._nearest(shape) + _EPS)
        if self.seen < 2:
            return 0.0, z
        sd = math.sqrt(self.var)
        return (z - self.mu) / (sd if sd > _SD_FLOOR else _SD_FLOOR), z

    def _localise(self, scored: tuple[float, float]) -> float:
        """The window's score on the point scale for the reading just in, or 0 if an
        earlier unusual window overlapping this one already holds its unusual readings
        (it must be `_AGAIN` times as unusual to count again)."""
        score = scored[0]
        top = max(self.recent, default=0.0)
        self.recent.append(score)
        if score <= 0.0 or (top > self.shape_threshold and score <= _AGAIN * top):
            return 0.0
        scaled = score * self.threshold / self.shape_threshold
        return scaled if scaled < CAP else CAP

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
                       self.alpha, self.shape_threshold, self.novelty, self.level_alpha,
                       self.step_alpha, self.point_warmup, self.clip],
            "raw": list(self.raw), "count": self.count, "shapes": self.shapes,
            "oldest": self.oldest, "pending": [[s, f] for s, f in self.pending],
            "recent": list(self.recent), "mu": self.mu, "var": self.var, "seen": self.seen,
            "point": [self.level, self.dev, self.step_dev, self.prev],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> DiscordAnomaly:
        """Restore a checkpoint; a version-1 one (no point component) resumes with the
        point component starting afresh (warming up again)."""
        params = state["params"]
        m, dims, stride, capacity, warmup, alpha, shape_threshold, novelty = params[:8]
        rest = params[8:] if len(params) > 8 else [0.005, 0.02, 64, 4.0]
        d = cls(int(m), int(dims), int(stride), int(capacity), int(warmup), float(alpha),
                float(shape_threshold), float(novelty), float(rest[0]), float(rest[1]),
                int(rest[2]), float(rest[3]))
        d.raw.extend(float(v) for v in state["raw"])
        d.count, d.oldest, d.seen = int(state["count"]), int(state["oldest"]), int(state["seen"])
        d.shapes = [[float(v) for v in s] for s in state["shapes"]]
        d.pending.extend(([float(v) for v in s], bool(f)) for s, f in state["pending"])
        d.recent.extend(float(v) for v in state.get("recent", ()))
        d.mu, d.var = float(state["mu"]), float(state["var"])
        if "point" in state:
            d.level, d.dev, d.step_dev, d.prev = (float(v) for v in state["point"])
        else:  # version 1: the point component warms up from here
            d.level = d.prev = d.raw[-1] if d.raw else 0.0
            d.point_warmup += d.count + 400  # and the spreads settle
        return d
