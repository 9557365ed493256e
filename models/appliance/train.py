"""Train the `appliance` model: load ACSF1 → fit on the official train split → evaluate
on the official test split → save.

Everything random is seeded, so the same data and library versions give the same
artifact bytes, hence the same version.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from models.appliance import data
from models.appliance.baselines import one_nn_euclidean
from models.appliance.pipeline import DEFAULT_PARAMS, build_pipeline
from models.artifacts import Manifest, save_artifact

NAME = "appliance"
STAGES = ("load data", "fit", "evaluate", "save")
# Shorter windows than the training series are resampled (features.FrameResampler);
# these fractions of each test series show what that costs.
CROP_FRACTIONS = (0.5, 0.75)
# UCR Time Series Classification Archive (2018), DataSummary.csv, row ACSF1: test error
# rates 0.46 (1-NN Euclidean), 0.38 (1-NN DTW, window learned on train: 4%),
# 0.36 (1-NN DTW, unconstrained). Dau et al., "The UCR Time Series Archive", 2019.
PUBLISHED = {
    "1nn_euclidean_accuracy": 0.54,
    "1nn_dtw_learned_window_accuracy": 0.62,
    "1nn_dtw_full_window_accuracy": 0.64,
    "source": "UCR Time Series Classification Archive 2018, DataSummary.csv (ACSF1 row)",
}

Progress = Callable[[str, int, int], None]


def evaluate(estimator: Any, test: data.Split) -> dict[str, Any]:
    """Accuracy on the official test split, per class, on cropped windows, confidence."""
    proba = estimator.predict_proba(test.X)
    classes = estimator.classes_
    predicted = classes[proba.argmax(axis=1)]
    correct = predicted == test.y
    confusions = Counter(
        (str(t), str(p)) for t, p in zip(test.y, predicted, strict=True) if t != p
    ).most_common(5)
    metrics: dict[str, Any] = {
        "test_series": len(test.y),
        "test_accuracy": round(float(correct.mean()), 4),
        "test_mean_confidence": round(float(proba.max(axis=1).mean()), 4),
        "per_class_accuracy": {
            str(c): round(float(correct[test.y == c].mean()), 4) for c in classes
        },
        "top_confusions": [{"true": t, "predicted": p, "count": n} for (t, p), n in confusions],
    }
    frame = 4
    for fraction in CROP_FRACTIONS:
        keep = int(test.X.shape[1] * fraction) // frame * frame
        head = estimator.predict([row[:keep] for row in test.X])
        metrics[f"test_accuracy_first_{int(fraction * 100)}pct"] = round(
            float((head == test.y).mean()), 4
        )
    return metrics


def train(model_dir: Path, progress: Progress | None = None, *,
          data_path: Path | None = None) -> Manifest:
    """Fit on the train split, evaluate on the test split, save as the current version."""
    report = progress or (lambda stage, done, total: None)
    total = len(STAGES)
    path = data_path or data.DATA_FILE

    report("load data", 0, total)
    train_split, test_split = data.load(path)

    report("fit", 1, total)
    started = time.perf_counter()
    pipeline = build_pipeline(n_jobs=2)
    pipeline.fit(list(train_split.X), train_split.y)
    fit_seconds = time.perf_counter() - started
    # Workers predict small batches, where thread start-up costs more than it saves.
    pipeline.named_steps["trees"].n_jobs = 1

    report("evaluate", 2, total)
    metrics = evaluate(pipeline, test_split)
    baseline = one_nn_euclidean(train_split.X, train_split.y, test_split.X)
    metrics["baseline_1nn_euclidean_accuracy"] = round(float((baseline == test_split.y).mean()), 4)
    metrics["published_baselines"] = PUBLISHED
    metrics["train_series"] = len(train_split.y)
    metrics["features"] = int(pipeline.named_steps["trees"].n_features_in_)
    metrics["fit_seconds"] = round(fit_seconds, 1)

    report("save", 3, total)
    provenance = {
        "dataset": "ACSF1 (UCR Time Series Classification Archive), official train/test split",
        "file": "models/appliance/data/acsf1.npz",
        "file_sha256": data.data_sha256(path),
        "source": f"{data.WHEEL.describe()}; see models/appliance/data/PROVENANCE.md",
        "train_series": len(train_split.y),
        "test_series": len(test_split.y),
        "classes": sorted({str(c) for c in train_split.y}),
        "series_length": int(train_split.X.shape[1]),
    }
    params = {**DEFAULT_PARAMS, "seed": DEFAULT_PARAMS["random_state"]}
    manifest = save_artifact(pipeline, model_dir, NAME, data=provenance, metrics=metrics,
                             params=params)
    report("done", total, total)
    return manifest

