"""The trained `anomaly` model through the workers' load/predict path, and its parts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.anomaly import data
from models.anomaly.baseline import rolling_zscore_flags
from models.anomaly.detector import SubsequenceNovelty
from models.anomaly.train import EVAL_WINDOW, STAGES, prf, train, windows
from models.artifacts import Manifest
from models.loading import LoadedModel


def event(readings: np.ndarray) -> dict:
    return {"sensor_id": "monitor", "timestamp": "2024-01-01T00:00:00Z",
            "sampling_period_ms": 4.0, "readings": [float(v) for v in readings]}


@pytest.fixture(scope="module")
def series() -> dict[str, data.Series]:
    return {s.name: s for s in data.load()}


def test_committed_data_has_one_labelled_event_per_series(series: dict) -> None:
    kdd, mitdb = series["kdd135"], series["mitdb"]

    assert (len(kdd.values), kdd.train_length) == (7501, 1200)
    assert np.flatnonzero(kdd.labels).tolist() == list(range(4187, 4199))
    assert (len(mitdb.values), mitdb.train_length) == (7500, 2500)
    assert np.flatnonzero(mitdb.labels).tolist() == list(range(6936, 7288))
    for s in series.values():
        assert not s.labels[: s.train_length].any()  # training parts are anomaly-free
    assert data.DATA_FILE.stat().st_size < 1024 * 1024
    assert (data.DATA_FILE.parent / "PROVENANCE.md").is_file()


def test_window_with_the_kdd_anomaly_flags_it(anomaly_model: LoadedModel, series: dict) -> None:
    kdd = series["kdd135"]
    start = 4187 - 500
    (result,) = anomaly_model.predict([event(kdd.values[start:start + EVAL_WINDOW])])

    assert result["anomalous"] is True and result["score"] > 1.0
    labelled = set(range(4187 - start, 4199 - start))
    assert labelled & set(result["anomalous_points"])


def test_results_are_well_formed(anomaly_model: LoadedModel, series: dict) -> None:
    x, _ = series["mitdb"].heldout
    inputs = [event(x[a:b]) for a, b in windows(len(x))]

    for item, result in zip(inputs, anomaly_model.predict(inputs), strict=True):
        assert set(result) == {"score", "anomalous", "anomalous_points"}
        assert isinstance(result["score"], float) and result["score"] >= 0
        assert result["anomalous"] == (result["score"] > 1.0) == bool(result["anomalous_points"])
        points = result["anomalous_points"]
        assert points == sorted(set(points))
        assert all(isinstance(i, int) and 0 <= i < len(item["readings"]) for i in points)


def test_batch_equals_one_by_one(anomaly_model: LoadedModel, series: dict) -> None:
    kdd, mitdb = series["kdd135"], series["mitdb"]
    inputs = [event(kdd.values[3700:4700]), event(mitdb.values[6800:7500]),
              event(kdd.values[1200:1456]), event(mitdb.values[2500:2800])]
    # And a worker-sized batch of every held-out window, short and long ones mixed.
    for s in (kdd, mitdb):
        x, _ = s.heldout
        inputs += [event(x[a:b]) for a, b in windows(len(x), size=700)]

    batch = anomaly_model.predict(inputs)
    singles = [anomaly_model.predict([item])[0] for item in inputs]

    assert batch == singles


@pytest.mark.parametrize("readings", [
    np.full(1024, 1e308), np.full(1024, np.finfo(float).max),
    np.where(np.arange(1024) % 2, 1e308, -1e308), np.where(np.arange(1024) % 5, 1e308, 0.0),
    np.full(1024, 5e-324), np.where(np.arange(1024) % 2, 5e-324, 0.0) + (np.arange(1024) > 1000),
], ids=["1e308", "max", "alternating", "with-zeros", "subnormal", "subnormal-quartiles"])
def test_extreme_finite_readings_score_a_finite_number(anomaly_model: LoadedModel,
                                                       readings: np.ndarray) -> None:
    # All 1e308 overflowed the normalisation and scored NaN, which is not JSON (issue 13).
    (result,) = anomaly_model.predict([event(readings)])
    assert np.isfinite(result["score"]) and result["score"] >= 0


def test_a_window_scores_the_same_in_any_unit(anomaly_model: LoadedModel,
                                              series: dict) -> None:
    # Powers of two scale exactly, so huge and tiny units must give identical answers.
    x = series["mitdb"].values[6800:7500]
    expected = anomaly_model.predict([event(x)])
    for factor in (2.0**900, 2.0**-900, 2.0**-1040):
        assert anomaly_model.predict([event(x * factor)]) == expected


def test_manifest_beats_the_z_score_on_held_out_data(trained_sensor: dict[str, Manifest]) -> None:
    metrics = trained_sensor["anomaly"].metrics

    assert metrics["pooled_model"]["f1"] > metrics["pooled_baseline"]["f1"]
    assert set(metrics["per_series"]) == {"kdd135", "mitdb"}
    assert trained_sensor["anomaly"].data["file_sha256"] == data.data_sha256()


def test_training_is_reproducible(tmp_path: Path, trained_sensor: dict[str, Manifest]) -> None:
    calls: list[tuple[str, int, int]] = []
    again = train(tmp_path, lambda *call: calls.append(call))

    assert again.version == trained_sensor["anomaly"].version
    assert [c[0] for c in calls] == [*STAGES, "done"]


def test_detector_flags_a_glitch_in_a_learned_rhythm() -> None:
    t = np.arange(3000)
    normal = np.sin(2 * np.pi * t / 50)
    detector = SubsequenceNovelty(lengths=(16, 32)).fit([normal[:2000]])

    clean, glitched = normal[2000:2600].copy(), normal[2000:2600].copy()
    glitched[300:304] += 1.5
    clean_scores, glitch_scores = detector.score_points([clean, glitched])

    assert clean_scores.max() <= 1.0
    flagged = np.flatnonzero(glitch_scores > 1.0)
    assert flagged.size and set(flagged) <= set(range(290, 315))


def test_detector_refuses_short_windows() -> None:
    detector = SubsequenceNovelty(lengths=(16,)).fit([np.sin(np.arange(200) / 5)])
    with pytest.raises(ValueError, match="fewer than 32"):
        detector.score_points([np.zeros(31)])


def test_rolling_zscore_flags_spikes_only() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=500)
    x[400] = 12.0

    flags = rolling_zscore_flags(x, window=100)

    assert flags[400] and not flags[:100].any()
    assert flags.sum() <= 3
    assert not rolling_zscore_flags(np.ones(300)).any()


def test_windows_cover_everything_and_never_leave_a_short_tail() -> None:
    spans = windows(2400, size=1024, minimum=256)
    assert spans == [(0, 1024), (1024, 2048), (2048, 2400)]
    assert windows(2200, size=1024, minimum=256) == [(0, 1024), (1024, 2200)]


def test_prf() -> None:
    assert prf({"flagged": 4, "true_positives": 2, "labelled": 8}) == {
        "precision": 0.5, "recall": 0.25, "f1": 0.3333}
    assert prf({"flagged": 0, "true_positives": 0, "labelled": 3})["f1"] == 0.0
