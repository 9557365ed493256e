"""Raw readings → features, as scikit-learn transformers inside the `appliance` pipeline.

Clients send the readings as the meter produced them; everything the model needs to
see them the way it saw the training data happens here, so training and prediction
cannot drift apart:

1. `FrameResampler` — the ACSF1 series interleave 4 measurement channels (value i
   belongs to channel i mod 4; see data/PROVENANCE.md). A window of any whole number of
   frames is split into its channels, each channel is linearly resampled to the training
   length (365 steps), the channels are interleaved again and the series z-normalised,
   as the UCR archive normalised ACSF1. Raw watts and archive-normalised values give the
   same result.
2. `IntervalQuantiles` — quantiles over dyadic intervals of the series, its first and
   second differences and its amplitude spectrum (the QUANT representation, Dempster,
   Schmidt & Webb 2024), which a tree ensemble then classifies.

Both work on the whole batch as one array: one transform for any number of windows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from models.sensor.scaling import rescaled


class FrameResampler(TransformerMixin, BaseEstimator):
    """Windows of whole frames → (n, channels * steps), resampled and z-normalised."""

    def __init__(self, channels: int = 4, steps: int = 365) -> None:
        self.channels = channels
        self.steps = steps

    def fit(self, X: Any, y: Any = None) -> FrameResampler:
        return self

    def transform(self, X: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
        # Scaled first when huge or tiny (sensor.scaling): resampling 1e308s overflowed
        # and the z-normalisation below saw a flat line. Exact, and the z-scores undo it.
        rows = [rescaled(np.asarray(row, dtype=np.float64)) for row in X]
        out = np.empty((len(rows), self.channels * self.steps))
        by_length: dict[int, list[int]] = defaultdict(list)
        for i, row in enumerate(rows):
            if row.ndim != 1 or row.size < 2 * self.channels or row.size % self.channels:
                raise ValueError(
                    f"window {i} has {row.size} readings, not a whole number (>= 2) of "
                    f"{self.channels}-channel frames"
                )
            by_length[row.size].append(i)
        # Windows of one length are resampled together: one interpolation per length.
        for members in by_length.values():
            frames = np.stack([rows[i] for i in members]).reshape(len(members), -1, self.channels)
            out[members] = self._resample(frames).reshape(len(members), -1)
        return _znormalise(out)

    def _resample(self, frames: np.ndarray) -> np.ndarray:
        have = frames.shape[1]
        if have == self.steps:
            return frames
        # Map each target step onto the window's own time axis, both spanning [0, 1].
        position = np.linspace(0.0, have - 1, self.steps)
        left = np.minimum(position.astype(np.int64), have - 2)
        weight = (position - left)[None, :, None]
        return frames[:, left, :] * (1.0 - weight) + frames[:, left + 1, :] * weight


def _znormalise(X: np.ndarray) -> np.ndarray:
    mean = X.mean(axis=1, keepdims=True)
    std = X.std(axis=1, keepdims=True)
    # A constant window has no shape to normalise; it stays all zeros.
    return np.divide(X - mean, std, out=np.zeros_like(X), where=std > 1e-12)


class IntervalQuantiles(TransformerMixin, BaseEstimator):
    """Quantiles over dyadic intervals of four representations of each series."""

    def __init__(self, depth: int = 6, quantile_divisor: int = 4) -> None:
        self.depth = depth
        self.quantile_divisor = quantile_divisor

    def fit(self, X: Any, y: Any = None) -> IntervalQuantiles:
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.shape[1] != getattr(self, "n_features_in_", X.shape[1]):
            raise ValueError(f"expected {self.n_features_in_} values per row, got {X.shape[1]}")
        representations = (
            X,
            np.diff(X, n=1, axis=1),
            np.diff(X, n=2, axis=1),
            np.abs(np.fft.rfft(X, axis=1)),
        )
        features = []
        for series in representations:
            length = series.shape[1]
            for level in range(self.depth):
                edges = np.linspace(0, length, 2**level + 1).astype(np.int64)
                for start, stop in pairwise(edges):
                    features.extend(self._interval(series[:, start:stop]))
        return np.concatenate(features, axis=1)

    def _interval(self, segment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        count = max(1, segment.shape[1] // self.quantile_divisor)
        levels = np.linspace(0.0, 1.0, count + 1)[1:-1] if count > 1 else np.array([0.5])
        quantiles = np.quantile(segment, levels, axis=1).T  # (n, quantiles)
        # Quantiles relative to the interval mean describe its shape apart from its level.
        return quantiles, quantiles - segment.mean(axis=1, keepdims=True)
