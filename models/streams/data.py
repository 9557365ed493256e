"""Evaluation streams for the event detectors, built from real ACSF1 recordings.

A stream alternates quiet stretches and appliance events, so the true boundaries are
known:

- An EVENT is one whole ACSF1 *test* series (1,460 readings, 4 interleaved channels, as
  published: z-normalised by the archive) raised by a step `delta` drawn uniformly from
  `DELTA` (in the archive's per-series standard-deviation units).
- A QUIET stretch is made of real "off" frames from ACSF1 *training* recordings: frames
  of appliances that cycle on and off, taken where every channel but the voltage-like
  channel 2 sits at its recording's minimum, in runs of at least 25 frames; each run is
  shifted to mean 0. Runs are concatenated (and cut) to the drawn length.

Why the shift and the step: the archive z-normalised every series, so absolute power is
lost and a published series has mean 0 whatever the appliance drew. The *shapes* in a
stream are real; the *level* of an event above the quiet level is our choice (`DELTA`),
and so is the quiet level being the same (0) in every stretch. Real meters add standby
drifts and overlapping appliances that these streams do not have.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.appliance import data as acsf1

CHANNELS = 4
SEED = 20240601
DELTA = (1.0, 3.0)
LEAD_FRAMES = (150, 250)  # quiet frames before the first event: the detectors' warm-up
GAP_FRAMES = (75, 200)  # quiet frames between events (300 to 800 readings)
MIN_RUN_FRAMES = 25


@dataclass(frozen=True)
class TrueEvent:
    start: int  # index of the event's first reading in the stream
    end: int  # index of its last reading (inclusive)
    label: str  # ACSF1 class code
    series: int  # row of the ACSF1 test split


@dataclass(frozen=True)
class EventStream:
    values: np.ndarray  # float64 readings; reading i is at t = i seconds
    events: list[TrueEvent]


def quiet_runs(X: np.ndarray) -> list[np.ndarray]:
    """Runs of real off-state frames from recordings that switch on and off."""
    runs = []
    for series in X:
        frames = series.reshape(-1, CHANNELS)
        power = frames[:, [0, 1, 3]]
        span = power.max(axis=0) - power.min(axis=0)
        if span.max() < 0.5:  # never switches: no off state to take
            continue
        off = np.all(power - power.min(axis=0) < 0.05 * span + 0.01, axis=1)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], off.astype(int), [0]])))
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            if stop - start >= MIN_RUN_FRAMES:
                run = frames[start:stop].reshape(-1)
                runs.append(run - run.mean())
    return runs


def _quiet(rng: np.random.Generator, runs: list[np.ndarray], frames: int) -> np.ndarray:
    parts, have = [], 0
    while have < frames * CHANNELS:
        run = runs[rng.integers(len(runs))]
        parts.append(run)
        have += run.size
    return np.concatenate(parts)[: frames * CHANNELS]


def build_streams(n_streams: int = 10, repeats: int = 3, seed: int = SEED) -> list[EventStream]:
    """`repeats` passes over the 100 test series, shuffled, dealt into `n_streams` streams."""
    train, test = acsf1.load()
    runs = quiet_runs(train.X)
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(len(test.X)) for _ in range(repeats)])
    streams = []
    for members in np.array_split(order, n_streams):
        parts = [_quiet(rng, runs, int(rng.integers(*LEAD_FRAMES)))]
        at, events = parts[0].size, []
        for i in members:
            event = test.X[i] + rng.uniform(*DELTA)
            events.append(TrueEvent(at, at + event.size - 1, str(test.y[i]), int(i)))
            gap = _quiet(rng, runs, int(rng.integers(*GAP_FRAMES)))
            parts += [event, gap]
            at += event.size + gap.size
        streams.append(EventStream(np.concatenate(parts), events))
    return streams
