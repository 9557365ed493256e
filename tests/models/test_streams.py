"""Per-sensor stream detectors: checkpoints, events, anomalies, extremes, windows."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from models.streams import (
    ANOMALY_DETECTORS,
    DEFAULT_ANOMALY_DETECTOR,
    DEFAULT_EVENT_DETECTOR,
    EVENT_DETECTORS,
    ClosedEvent,
    Step,
    StreamModel,
    appliance_window,
)
from models.streams.anomaly import DiscordAnomaly
from models.streams.metrics import match, score_alerts


def signal(n: int = 6000, seed: int = 0) -> list[float]:
    """A periodic signal with noise, two level events and a few spikes."""
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    x = np.sin(2 * np.pi * i / 37) + 0.05 * rng.standard_normal(n)
    x[1500:2100] += 4.0
    x[4000:4400] += 2.5
    x[[900, 3000, 5200]] += 8.0
    return x.tolist()


def events_of(steps: list[Step]) -> list[ClosedEvent]:
    return [s.closed for s in steps if s.closed is not None]


PAIRS = [(e, a) for e in EVENT_DETECTORS for a in ANOMALY_DETECTORS]


@pytest.mark.parametrize(("event", "anomaly"), PAIRS)
def test_checkpoint_continues_bit_identically(event: str, anomaly: str) -> None:
    values = signal()
    ts = [1_700_000_000.0 + i for i in range(len(values))]
    whole = StreamModel(event, anomaly).steps(ts, values)
    assert events_of(whole) and any(s.anomalous for s in whole)  # the run exercises both

    model, resumed, at = StreamModel(event, anomaly), [], 0
    for cut in (1, 7, 64, 1000, 1503, 1650, 2100, 2111, 3001, 4399, len(values)):
        resumed += model.steps(ts[at:cut], values[at:cut])
        model = StreamModel.from_state(json.loads(json.dumps(model.to_state(),
                                                             allow_nan=False)))
        at = cut
    assert resumed == whole
    assert model.versions == {
        "event_detector": f"{event}-{EVENT_DETECTORS[event].version}",
        "anomaly_detector": f"{anomaly}-{ANOMALY_DETECTORS[anomaly].version}"}


def test_step_and_steps_agree() -> None:
    values = signal()[:3000]
    one, many = StreamModel(), StreamModel()
    assert [one.step(float(i), v) for i, v in enumerate(values)] == many.steps(
        [float(i) for i in range(len(values))], values)


def quiet_event_quiet(rng: np.random.Generator) -> list[float]:
    x = 0.02 * rng.standard_normal(1400)
    x[500:800] += 5.0  # readings 500..799 are the event
    return x.tolist()


@pytest.mark.parametrize("event", sorted(EVENT_DETECTORS))
def test_obvious_event_is_found_with_its_boundaries(event: str) -> None:
    values = quiet_event_quiet(np.random.default_rng(1))
    steps = StreamModel(event, DEFAULT_ANOMALY_DETECTOR).steps(
        [float(i) for i in range(len(values))], values)
    found = [(int(e.start_t), int(e.end_t)) for e in events_of(steps)]
    pairs = match([(500, 799)], found)
    assert len(pairs) == 1
    start, end = found[pairs[0][1]]
    assert abs(start - 500) <= 8 and abs(end - 799) <= 8
    assert steps[650].in_event and not steps[1399].in_event
    assert steps[650].smoothed == pytest.approx(5.0, abs=0.1)


def test_default_detector_reports_only_the_event() -> None:
    values = quiet_event_quiet(np.random.default_rng(2))
    steps = StreamModel().steps([float(i) for i in range(len(values))], values)
    assert len(events_of(steps)) == 1


def test_obvious_spike_is_flagged_and_normal_cycles_are_not() -> None:
    rng = np.random.default_rng(3)
    i = np.arange(4000)
    x = np.sin(2 * np.pi * i / 50) + 0.02 * rng.standard_normal(i.size)
    x[3000] += 6.0
    steps = StreamModel().steps(i.astype(float).tolist(), x.tolist())
    flags = np.array([s.anomalous for s in steps])
    labels = np.zeros(i.size, dtype=bool)
    labels[3000] = True
    score = score_alerts(labels[1000:], flags[1000:], tolerance=64, gap=100)
    assert score.detected == 1 and score.false_alerts == 0


@pytest.mark.parametrize("anomaly", sorted(ANOMALY_DETECTORS))
@pytest.mark.parametrize("values", [
    [1e308] * 300,
    [-1e308] * 300,
    [1e308, -1e308] * 150,
    [3.0] * 300,
    [0.0] * 100 + [1e308] + [0.0] * 100 + [math.inf, -math.inf, math.nan] * 30,
])
def test_scores_stay_finite_for_extreme_readings(anomaly: str, values: list[float]) -> None:
    for event in EVENT_DETECTORS:
        model = StreamModel(event, anomaly)
        steps = model.steps([float(i) for i in range(len(values))], values)
        assert all(math.isfinite(s.score) and math.isfinite(s.smoothed) for s in steps)
        json.dumps(model.to_state(), allow_nan=False)


def test_state_is_small_after_10k_readings() -> None:
    rng = np.random.default_rng(4)
    values = (rng.standard_normal(10_000) * 1e3).tolist()  # full-precision floats: worst case
    model = StreamModel(DEFAULT_EVENT_DETECTOR, DEFAULT_ANOMALY_DETECTOR)
    model.steps([float(i) for i in range(10_000)], values)
    assert len(json.dumps(model.to_state())) <= 50_000


@pytest.mark.parametrize("n", [1, 5, 8, 100, 1460, 5001])
def test_appliance_window_is_1460_finite_floats(n: int) -> None:
    values = (np.linspace(-1.0, 1.0, n) * 1e308).tolist()
    window = appliance_window(values)
    assert len(window) == 1460 and all(math.isfinite(v) for v in window)


def test_appliance_window_finds_the_frame_phase() -> None:
    from models.appliance.data import load

    series = load()[1].X[10]
    shifted = np.concatenate([[-0.5, -0.5, -0.5], series, [-0.5]])  # cut mid-frame
    assert appliance_window(series) == pytest.approx(series.tolist())
    assert appliance_window(shifted) == pytest.approx(series.tolist())


def test_unknown_detector_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown detector"):
        StreamModel("nope")


def test_a_spike_is_flagged_on_its_own_reading_and_not_after() -> None:
    rng = np.random.default_rng(5)
    i = np.arange(3000)
    x = 10.0 + np.sin(2 * np.pi * i / 40) + 0.05 * rng.standard_normal(i.size)
    spread = 1.4826 * float(np.median(np.abs(x[:2000] - np.median(x[:2000]))))
    x[2000] = float(np.median(x[1900:2000])) + 50 * spread
    steps = StreamModel().steps(i.astype(float).tolist(), x.tolist())
    assert steps[2000].anomalous
    assert not steps[2010].anomalous
    assert not any(s.anomalous for s in steps[2003:2040])  # not the window after it
    assert steps[2000].score <= DiscordAnomaly.cap


def test_a_spike_in_white_noise_is_flagged_on_its_own_reading() -> None:
    x = np.random.default_rng(6).standard_normal(2000)
    x[1500] += 50.0
    d = DiscordAnomaly()
    flags = [d.update(v)[1] for v in x.tolist()]
    assert flags[1500] and not flags[1510]


def test_the_threshold_and_cap_are_class_attributes() -> None:
    assert 0.0 < DiscordAnomaly.threshold < DiscordAnomaly.cap <= 100.0


def rippled(n: int = 3000) -> list[float]:
    return [0.1 + 0.01 * ((i * 7919) % 13 - 6) / 6 for i in range(n)]


@pytest.mark.parametrize("values", [
    [3.0] * 3000,
    rippled(),
    rippled()[:1000] + [0.1 + 1e-7] + rippled()[:1000] + [5.0] * 300 + rippled()[:700],
    [1e308] * 500 + [-1e308] * 500 + [1e308, -1e308, 0.0] * 300,
    [0.0] * 600 + [1e308] + [0.0] * 600 + [-1e308] + [1.0] * 100,
])
def test_discord_score_is_finite_and_capped(values: list[float]) -> None:
    model = StreamModel()
    steps = model.steps([float(i) for i in range(len(values))], values)
    assert all(math.isfinite(s.score) and 0.0 <= s.score <= DiscordAnomaly.cap for s in steps)
    assert all(s.anomalous == (s.score > DiscordAnomaly.threshold) for s in steps)
    json.dumps(model.to_state(), allow_nan=False)


def test_a_version_1_checkpoint_still_loads() -> None:
    values = signal()[:2000]
    model = StreamModel()
    model.steps([float(i) for i in range(1000)], values[:1000])
    state = json.loads(json.dumps(model.to_state()))
    old = state["anomaly"]
    old["params"] = old["params"][:8]
    for key in ("point", "recent"):
        del old[key]
    resumed = StreamModel.from_state(state)
    steps = resumed.steps([float(i) for i in range(1000, 2000)], values[1000:])
    assert all(math.isfinite(s.score) for s in steps)
