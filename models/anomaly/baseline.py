"""The seed's rule, as the baseline: a reading is anomalous when it lies more than 3
standard deviations from the mean of the readings just before it (a rolling z-score).
"""

from __future__ import annotations

import numpy as np

WINDOW = 100  # trailing readings that define "normal" for the next one
SIGMAS = 3.0


def rolling_zscore_flags(x: np.ndarray, window: int = WINDOW, sigmas: float = SIGMAS) -> np.ndarray:
    """True where |x[i] - mean(x[i-window:i])| > sigmas * std(x[i-window:i])."""
    x = np.asarray(x, dtype=np.float64)
    flags = np.zeros(len(x), dtype=bool)
    if len(x) <= window:
        return flags
    history = np.lib.stride_tricks.sliding_window_view(x[:-1], window)  # ends at i-1
    mean, std = history.mean(axis=1), history.std(axis=1)
    deviation = np.abs(x[window:] - mean)
    flags[window:] = deviation > sigmas * np.where(std > 0, std, np.inf)
    return flags
