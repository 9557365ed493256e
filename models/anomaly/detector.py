"""A library of normal subsequences: a window is anomalous where it matches none of them.

Fitting keeps every subsequence of each normal training series at a few lengths (each
z-normalised, so level and gain do not matter, only shape) and learns, per length and
per series, how far a normal subsequence can be from its nearest other normal one (the
series' own matrix profile). Scoring measures, for every subsequence of a window, the
distance to the nearest library subsequence of each series divided by that series'
threshold, and keeps the smallest.

A point's score at one length is the smallest score of the subsequences that contain
it — a point is only as suspicious as the most normal-looking context it appears in,
which keeps flags on the anomaly instead of smearing them over its neighbours. Its
overall score is the largest over the lengths, so one model catches both short glitches
and beat-long shape changes. Scores above 1 are anomalous.

Plain numpy and a scikit-learn BaseEstimator; the batch path stacks every window's
subsequences into one matrix per length and does one nearest-neighbour search for all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from models.sensor.scaling import rescaled

_CHUNK = 2048  # query rows per distance block: bounds memory at CHUNK x library floats
# Per unit of sqrt(length); real training data sits well above it (0.05 to 0.4 here).
_MIN_THRESHOLD = 0.02
_TINY = float(np.finfo(np.float64).tiny)  # the smallest normal float


class SubsequenceNovelty(BaseEstimator):
    def __init__(self, lengths: tuple[int, ...] = (16, 32, 64, 128), std_floor: float = 0.05,
                 margin: float = 1.0) -> None:
        self.lengths = lengths
        # Subsequences flatter than std_floor x the series' interquartile range are not
        # stretched to unit variance: that would turn sensor noise into "shape".
        self.std_floor = std_floor
        self.margin = margin  # thresholds are margin x the largest normal score

    @property
    def min_window(self) -> int:
        return 2 * max(self.lengths)

    def fit(self, X: Sequence[np.ndarray], y: Any = None) -> SubsequenceNovelty:
        """X: the normal training series (any number, any lengths >= min_window)."""
        series = [np.asarray(x, dtype=np.float64) for x in X]
        if not series or any(len(x) < self.min_window for x in series):
            raise ValueError(f"every training series needs >= {self.min_window} readings")
        # Per length, one library and one threshold per training series: how close a
        # subsequence must be to count as normal depends on the signal it resembles
        # (a noisy ECG's normal spread would hide a glitch in a smooth pressure wave).
        self.libraries_ = {}
        self.thresholds_ = {}
        for m in self.lengths:
            libraries, thresholds = [], []
            for x in series:
                library = _subsequences(x, m, self.std_floor)
                # Self-join: a subsequence's nearest neighbour may not overlap it (an
                # overlapping one is a trivial match).
                nearest = _nearest(library, library, exclusion=m)
                libraries.append(library)
                normal = float(self.margin * _point_scores(nearest, len(x), m).max())
                # A perfectly repeating training signal would give 0 and make any
                # deviation, even rounding noise, anomalous.
                thresholds.append(max(normal, _MIN_THRESHOLD * np.sqrt(m)))
            self.libraries_[m] = libraries
            self.thresholds_[m] = thresholds
        self.n_training_series_ = len(series)
        return self

    def score_points(self, windows: Sequence[Sequence[float]]) -> list[np.ndarray]:
        """Per window, one score per reading (>1 = anomalous), from one search per length."""
        rows = [np.asarray(w, dtype=np.float64) for w in windows]
        for i, row in enumerate(rows):
            if row.ndim != 1 or len(row) < self.min_window:
                raise ValueError(f"window {i} has fewer than {self.min_window} readings")
        scores = [np.zeros(len(row)) for row in rows]
        for m in self.lengths:
            parts = [_subsequences(row, m, self.std_floor) for row in rows]
            stacked = np.vstack(parts)
            # Normal if close to any one signal's library, by that signal's standard.
            nearest = np.min([
                _nearest(stacked, library) / threshold
                for library, threshold in zip(self.libraries_[m], self.thresholds_[m],
                                              strict=True)
            ], axis=0)
            offset = 0
            for i, part in enumerate(parts):
                own = nearest[offset:offset + len(part)]
                offset += len(part)
                np.maximum(scores[i], _point_scores(own, len(rows[i]), m), out=scores[i])
        return scores


def _subsequences(x: np.ndarray, m: int, std_floor: float) -> np.ndarray:
    # Readings like 1e308 overflowed the mean and the squares and made every score NaN;
    # a window is z-normalised anyway, so scaling it changes no shape (sensor.scaling).
    x = rescaled(x)
    windows = np.lib.stride_tricks.sliding_window_view(x, m)
    centred = windows - windows.mean(axis=1, keepdims=True)
    q75, q25 = np.percentile(x, [75, 25])
    scale = (q75 - q25) or float(np.std(x)) or 1.0
    # A window spread over 1e-320 has a floor of 0 (0.05 x a subnormal), and 0 / 0 is NaN.
    floor = max(std_floor * scale, _TINY)
    std = np.maximum(centred.std(axis=1, keepdims=True), floor)
    z = centred / std
    # No z-normalised value of m readings exceeds sqrt(m - 1), so this changes nothing
    # computed exactly; it bounds what a vanished variance blew up (a hostile window:
    # readings of 1e-160 among readings whose quartiles differ by 1e-320), so no
    # distance below can overflow.
    bound = float(np.sqrt(m))
    return np.clip(z, -bound, bound, out=z)


def _nearest(queries: np.ndarray, library: np.ndarray, exclusion: int = 0) -> np.ndarray:
    """Euclidean distance from each query row to its nearest library row.

    With `exclusion` > 0, queries are the library itself and rows closer than
    `exclusion` positions to the query are skipped (trivial matches).
    """
    # float64 on purpose: |a|^2 + |b|^2 - 2ab cancels badly in float32, and the noise
    # would depend on how many windows share a matrix product, so a window could score
    # differently alone than in a batch.
    library_norms = (library**2).sum(axis=1)
    out = np.empty(len(queries))
    for lo in range(0, len(queries), _CHUNK):
        block = queries[lo:lo + _CHUNK]
        # |q - l|^2 = |q|^2 + (|l|^2 - 2 q.l): the row constant |q|^2 is added after the
        # minimum, and the rest is built in place, so each block costs one allocation.
        partial = block @ library.T
        partial *= -2.0
        partial += library_norms[None, :]
        if exclusion:
            rows = np.arange(lo, lo + len(block))[:, None]
            partial[np.abs(rows - np.arange(len(library))[None, :]) < exclusion] = np.inf
        squared = partial.min(axis=1) + (block**2).sum(axis=1)
        out[lo:lo + len(block)] = np.sqrt(np.maximum(squared, 0.0))
    return out


def _point_scores(subsequence_scores: np.ndarray, n: int, m: int) -> np.ndarray:
    """Each point's smallest score among the subsequences that contain it."""
    padded = np.concatenate([np.full(m - 1, np.inf), subsequence_scores, np.full(m - 1, np.inf)])
    return np.lib.stride_tricks.sliding_window_view(padded, m).min(axis=1)[:n]
