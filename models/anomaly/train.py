"""Train the `anomaly` model: load the labelled series → fit on their anomaly-free
training parts → score the held-out parts window by window → save.

Labels are used only to evaluate: the model sees nothing but normal data, so its
threshold is learned without peeking at an anomaly. No randomness is involved.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.anomaly import data
from models.anomaly.baseline import SIGMAS, WINDOW, rolling_zscore_flags
from models.anomaly.detector import SubsequenceNovelty
from models.anomaly.model import BOUNDS
from models.artifacts import Manifest, save_artifact

NAME = "anomaly"
STAGES = ("load data", "fit", "evaluate", "save")
PARAMS: dict[str, Any] = {"lengths": (16, 32, 64, 128), "std_floor": 0.05, "margin": 1.0}
# Held-out data is cut into windows of this many readings, as a client would send them.
EVAL_WINDOW = 1024

Progress = Callable[[str, int, int], None]


def build_detector() -> SubsequenceNovelty:
    return SubsequenceNovelty(**PARAMS)


def windows(n: int, size: int = EVAL_WINDOW, minimum: int = BOUNDS.min_readings
            ) -> list[tuple[int, int]]:
    """Consecutive [start, stop) spans covering n readings; a short tail joins the last."""
    spans, start = [], 0
    while start < n:
        stop = min(start + size, n)
        if 0 < n - stop < minimum:
            stop = n
        spans.append((start, stop))
        start = stop
    return spans


def point_flags(detector: SubsequenceNovelty, x: np.ndarray) -> np.ndarray:
    """Flags for every reading of x, scored window by window in one batch."""
    spans = windows(len(x))
    scores = detector.score_points([x[a:b] for a, b in spans])
    return np.concatenate(scores) > 1.0


def counts(flags: np.ndarray, labels: np.ndarray) -> dict[str, int]:
    return {"flagged": int(flags.sum()), "true_positives": int((flags & labels).sum()),
            "labelled": int(labels.sum())}


def prf(c: dict[str, int]) -> dict[str, float]:
    """Point-wise precision, recall and F1 from counts."""
    tp, flagged, labelled = c["true_positives"], c["flagged"], c["labelled"]
    precision = tp / flagged if flagged else 0.0
    recall = tp / labelled if labelled else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def evaluate(detector: SubsequenceNovelty, series: Sequence[data.Series]) -> dict[str, Any]:
    """Point-wise P/R/F1 on each held-out part and pooled, beside the rolling z-score."""
    out: dict[str, Any] = {"per_series": {}}
    pooled = {"model": dict.fromkeys(("flagged", "true_positives", "labelled"), 0),
              "baseline": dict.fromkeys(("flagged", "true_positives", "labelled"), 0)}
    for s in series:
        x, labels = s.heldout
        # The z-score runs over the whole recording, so it has history from the start.
        found = {"model": point_flags(detector, x),
                 "baseline": rolling_zscore_flags(s.values)[s.train_length:]}
        entry: dict[str, Any] = {"heldout_readings": len(x), "labelled_points": int(labels.sum())}
        for who, flags in found.items():
            c = counts(flags, labels)
            for key in c:
                pooled[who][key] += c[key]
            entry[who] = {**prf(c), "flagged_points": c["flagged"],
                          "anomaly_detected": bool((flags & labels).any())}
        out["per_series"][s.name] = entry
    for who in ("model", "baseline"):
        out[f"pooled_{who}"] = {**prf(pooled[who]), "flagged_points": pooled[who]["flagged"]}
    out["protocol"] = (
        f"held-out parts cut into {EVAL_WINDOW}-reading windows, each scored alone; "
        f"point-wise precision/recall/F1; baseline: |x - mean| > {SIGMAS:g} std over the "
        f"previous {WINDOW} readings"
    )
    return out


def train(model_dir: Path, progress: Progress | None = None, *,
          data_path: Path | None = None) -> Manifest:
    """Fit on the normal training parts, evaluate on the held-out parts, save."""
    report = progress or (lambda stage, done, total: None)
    total = len(STAGES)
    path = data_path or data.DATA_FILE

    report("load data", 0, total)
    series = data.load(path)

    report("fit", 1, total)
    started = time.perf_counter()
    detector = build_detector().fit([s.train for s in series])
    fit_seconds = time.perf_counter() - started

    report("evaluate", 2, total)
    metrics = evaluate(detector, series)
    metrics["fit_seconds"] = round(fit_seconds, 1)
    metrics["thresholds"] = {
        str(m): [round(t, 4) for t in detector.thresholds_[m]] for m in detector.lengths
    }

    report("save", 3, total)
    provenance = {
        "datasets": {
            "kdd135": "KDD-TSAD 135 UCR_Anomaly_InternalBleeding16 (aeon 1.6.0 wheel); "
                      "official anomaly-free training prefix",
            "mitdb": "MIT-BIH ECG excerpt (sktime 1.2.0 wheel); first "
                     f"{data.MITDB_TRAIN_LENGTH} readings train",
        },
        "train_readings": {s.name: s.train_length for s in series},
        "heldout_readings": {s.name: len(s.values) - s.train_length for s in series},
        "file": "models/anomaly/data/series.npz",
        "file_sha256": data.data_sha256(path),
        "source": f"{data.AEON.describe()}; {data.SKTIME.describe()}; "
                  "see models/anomaly/data/PROVENANCE.md",
    }
    params = {**PARAMS, "lengths": list(PARAMS["lengths"]), "eval_window": EVAL_WINDOW}
    manifest = save_artifact(detector, model_dir, NAME, data=provenance, metrics=metrics,
                             params=params)
    report("done", total, total)
    return manifest
