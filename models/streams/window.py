"""An event's raw readings → the 1,460-reading window the `appliance` model accepts.

ACSF1 series interleave 4 channels (value i belongs to channel i mod 4, see
models/appliance/MODEL_CARD.md). A detected event may begin mid-frame, and resampling
across the interleave would blend channels, so the frame phase is found first: in 195 of
the 200 ACSF1 series the channel with the highest mean is channel 2 (a near-constant,
voltage-like channel), so the window is shifted to put that channel at index 2. Then
each channel is linearly resampled to 365 steps and the channels interleaved again.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CHANNELS = 4
STEPS = 365
LENGTH = CHANNELS * STEPS  # 1,460: ACSF1's series length
HIGH_CHANNEL = 2  # the channel with the highest mean in ACSF1 (195 of 200 series)


def appliance_window(values: Sequence[float]) -> list[float]:
    """Exactly 1,460 finite floats, frame-aligned and linearly resampled per channel."""
    x = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0, posinf=1e100,
                      neginf=-1e100)
    x = np.clip(x, -1e100, 1e100)
    if x.ndim != 1 or x.size == 0:
        raise ValueError("an event needs at least one reading")
    if x.size < 2 * CHANNELS:
        # Too short to hold two frames: repeat it (a flat window the model can refuse).
        x = np.resize(x, 2 * CHANNELS)
    phase = int(np.argmax([x[c::CHANNELS][: x.size // CHANNELS].mean() for c in range(CHANNELS)]))
    # Drop readings before the first frame so that the high channel lands at index 2.
    skip = (phase - HIGH_CHANNEL) % CHANNELS
    frames = x[skip:]
    frames = frames[: frames.size // CHANNELS * CHANNELS].reshape(-1, CHANNELS)
    if frames.shape[0] < 2:
        frames = np.vstack([frames, frames]) if frames.size else np.zeros((2, CHANNELS))
    have = frames.shape[0]
    position = np.linspace(0.0, have - 1, STEPS)
    left = np.minimum(position.astype(np.int64), have - 2)
    weight = (position - left)[:, None]
    out = frames[left] * (1.0 - weight) + frames[left + 1] * weight
    return [float(v) for v in np.nan_to_num(out.reshape(-1), nan=0.0, posinf=1e100,
                                            neginf=-1e100)]
