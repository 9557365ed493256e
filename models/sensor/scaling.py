"""Bringing a sensor window to a safe magnitude before arithmetic that squares it.

Both sensor models z-normalise what they see, so a window's unit does not change its
answer — but the arithmetic on the way squares readings: 1e200 squared overflows to
infinity and 1e-200 squared vanishes, and the answer became NaN, or the shape of a flat
line (issue 13). Multiplying by a power of two is exact (only the exponent changes), so a
window whose largest reading is of a sane size is left exactly as it was — every answer
on real data stays bit-for-bit the same — and any other is scaled to a largest
magnitude in [0.5, 1), which gives the answer its shape deserves.
"""

from __future__ import annotations

import numpy as np

# Squares and sums of squares of 8,192 readings stay far from overflow (2^202 x 2^13)
# and from underflow below; sensor readings in any real unit sit well inside.
SAFE_LOW = 2.0**-100
SAFE_HIGH = 2.0**100


def rescaled(windows: np.ndarray) -> np.ndarray:
    """`windows` (one window, or one per row) with each out-of-range window scaled by a
    power of two to a largest magnitude in [0.5, 1); the same array when none is."""
    if windows.ndim == 0 or windows.size == 0:
        return windows  # nothing to scale; the caller refuses it with its own message
    peak = np.max(np.abs(windows), axis=-1, keepdims=True)
    unsafe = (peak > SAFE_HIGH) | ((peak < SAFE_LOW) & (peak > 0.0))
    if not unsafe.any():
        return windows
    # Not finite (never from the API, which refuses NaN and infinity): left as it is.
    unsafe &= np.isfinite(peak)
    _, exponent = np.frexp(peak)
    return np.ldexp(windows, np.where(unsafe, -exponent, 0))
