"""The trained `appliance` model through the workers' load/predict path, on ACSF1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.appliance import data
from models.appliance.baselines import dtw_distances, one_nn_dtw, one_nn_euclidean
from models.appliance.classes import CODES
from models.appliance.features import FrameResampler, IntervalQuantiles
from models.appliance.train import PUBLISHED, STAGES, train
from models.artifacts import Manifest
from models.loading import LoadedModel
from models.sensor.schema import MAX_SENSOR_ID_CHARS


def events(X: np.ndarray) -> list[dict]:
    return [{"sensor_id": "meter", "timestamp": 0.0, "sampling_period_ms": 10_000.0,
             "readings": [float(v) for v in row]} for row in X]


@pytest.fixture(scope="module")
def test_split() -> data.Split:
    return data.load()[1]


def test_committed_data_is_the_official_split() -> None:
    train_split, test_split = data.load()

    assert train_split.X.shape == test_split.X.shape == (100, 1460)
    for split in (train_split, test_split):
        assert sorted(set(split.y.tolist())) == list(CODES)
        assert {int((split.y == c).sum()) for c in CODES} == {10}
    # The archive z-normalised every series.
    assert np.allclose(train_split.X.mean(axis=1), 0, atol=1e-6)
    assert np.allclose(train_split.X.std(axis=1), 1, atol=1e-3)
    assert data.DATA_FILE.stat().st_size < 2 * 1024 * 1024
    assert (data.DATA_FILE.parent / "PROVENANCE.md").is_file()
    assert MAX_SENSOR_ID_CHARS == 200


def test_parse_ts_reads_labels_and_refuses_ragged_series() -> None:
    row = ",".join(["0.5"] * data.SERIES_LENGTH)
    X, y = data.parse_ts(f"# comment\n@problemName x\n@data\n{row}:3\n{row}:7\n")
    assert X.shape == (2, data.SERIES_LENGTH) and list(y) == ["3", "7"]
    with pytest.raises(data.DataError, match="lengths"):
        data.parse_ts("@data\n1,2,3:1\n")


def test_results_are_well_formed_and_match_the_test_accuracy(
    appliance_model: LoadedModel, test_split: data.Split
) -> None:
    results = appliance_model.predict(events(test_split.X))

    for result in results:
        assert set(result) == {"label", "confidence", "scores"}
        assert result["label"] in CODES
        assert 0.0 <= result["confidence"] <= 1.0
        assert set(result["scores"]) == set(CODES)
        assert sum(result["scores"].values()) == pytest.approx(1.0, abs=1e-3)
        assert max(result["scores"], key=result["scores"].get) == result["label"]
    accuracy = np.mean([r["label"] == y for r, y in zip(results, test_split.y, strict=True)])
    assert accuracy == appliance_model.manifest.metrics["test_accuracy"]
    assert accuracy > PUBLISHED["1nn_dtw_full_window_accuracy"]


def test_batch_equals_one_by_one_with_mixed_lengths(
    appliance_model: LoadedModel, test_split: data.Split
) -> None:
    rows = [test_split.X[0], test_split.X[15][:800], test_split.X[33], test_split.X[71][:1200],
            np.tile(test_split.X[90], 2)]
    inputs = events(np.array(rows, dtype=object))

    batch = appliance_model.predict(inputs)
    singles = [appliance_model.predict([item])[0] for item in inputs]

    assert batch == singles


def test_raw_units_give_the_same_answer(appliance_model: LoadedModel,
                                        test_split: data.Split) -> None:
    # Clients send watts, not the archive's z-scores: the pipeline normalises each window.
    normalised = appliance_model.predict(events(test_split.X[:10]))
    watts = appliance_model.predict(events(test_split.X[:10] * 37.5 + 120.0))
    assert [r["label"] for r in watts] == [r["label"] for r in normalised]


def test_huge_and_tiny_units_give_the_same_answer(appliance_model: LoadedModel,
                                                   test_split: data.Split) -> None:
    # Readings near 1e308 overflowed the resampling and z-normalisation and were
    # classified as a flat line (issue 13); powers of two scale exactly.
    expected = appliance_model.predict(events(test_split.X[:10]))
    for factor in (2.0**1000, 2.0**-1000):
        assert appliance_model.predict(events(test_split.X[:10] * factor)) == expected
    (flat,) = appliance_model.predict(events(np.full((1, 1460), 1e308)))
    assert flat == appliance_model.predict(events(np.ones((1, 1460))))[0]


def test_manifest_carries_provenance_and_metrics(trained_sensor: dict[str, Manifest]) -> None:
    manifest = trained_sensor["appliance"]

    assert manifest.data["file_sha256"] == data.data_sha256()
    assert "sktime-1.2.0" in manifest.data["source"]
    metrics = manifest.metrics
    assert metrics["test_accuracy"] > metrics["baseline_1nn_euclidean_accuracy"]
    assert metrics["baseline_1nn_euclidean_accuracy"] == PUBLISHED["1nn_euclidean_accuracy"]
    assert metrics["fit_seconds"] < 60


def test_training_is_reproducible(tmp_path: Path, trained_sensor: dict[str, Manifest]) -> None:
    calls: list[tuple[str, int, int]] = []
    again = train(tmp_path, lambda *call: calls.append(call))

    assert again.version == trained_sensor["appliance"].version
    assert [c[0] for c in calls] == [*STAGES, "done"]


def test_frame_resampler_keeps_channels_apart() -> None:
    steps = np.arange(100, dtype=float)
    # Channel c of a 4-channel window is the ramp steps * (c + 1).
    window = np.stack([steps * (c + 1) for c in range(4)], axis=1).reshape(-1)
    out = FrameResampler(channels=4, steps=25).transform([window])
    channels = out.reshape(25, 4)

    # Each channel is still a ramp of its own slope after resampling and z-normalising.
    slopes = np.diff(channels, axis=0).mean(axis=0)
    assert np.allclose(np.diff(channels, axis=0), slopes[None, :])
    assert np.allclose(slopes / slopes[0], [1, 2, 3, 4])
    assert out.mean() == pytest.approx(0) and out.std() == pytest.approx(1)


def test_frame_resampler_is_the_identity_on_archive_series(test_split: data.Split) -> None:
    out = FrameResampler().transform(test_split.X[:5])
    assert np.allclose(out, test_split.X[:5], atol=1e-6)


def test_frame_resampler_refuses_partial_frames() -> None:
    with pytest.raises(ValueError, match="whole number"):
        FrameResampler().transform([np.zeros(1461)])


def test_interval_quantiles_are_shift_aware_and_fixed_width() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 64))
    features = IntervalQuantiles(depth=3).fit(X)
    a, b = features.transform(X), features.transform(X + 5.0)

    assert a.shape == b.shape and a.shape[0] == 3
    assert not np.allclose(a, b)  # levels are features ...
    with pytest.raises(ValueError, match="expected 64"):
        features.transform(X[:, :32])


def _dtw_reference(a: np.ndarray, b: np.ndarray, band: int | None) -> float:
    n = len(a)
    table = np.full((n + 1, n + 1), np.inf)
    table[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, n + 1):
            if band is None or abs(i - j) <= band:
                table[i, j] = (a[i - 1] - b[j - 1]) ** 2 + min(
                    table[i - 1, j], table[i, j - 1], table[i - 1, j - 1])
    return float(table[n, n])


@pytest.mark.parametrize(("length", "band"), [(30, None), (30, 3), (25, 1), (25, 0)])
def test_dtw_matches_the_textbook_recurrence(length: int, band: int | None) -> None:
    rng = np.random.default_rng(length)
    A, B = rng.normal(size=(3, length)), rng.normal(size=(4, length))
    expected = [[_dtw_reference(a, b, band) for b in B] for a in A]

    got = dtw_distances(A, B, 1.0 if band is None else band / length)

    assert np.allclose(got, expected)


def test_one_nn_baselines_pick_the_nearest_label() -> None:
    X_train = np.array([[0.0, 0, 0, 0], [5.0, 5, 5, 5]])
    y_train = np.array(["low", "high"])
    X_test = np.array([[0.5, 0, 0.5, 0], [4.0, 6, 5, 5]])

    assert list(one_nn_euclidean(X_train, y_train, X_test)) == ["low", "high"]
    assert list(one_nn_dtw(X_train, y_train, X_test)) == ["low", "high"]
