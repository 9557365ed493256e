"""Accuracy and calibration figures of a scored test set (held-out or out-of-domain)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from models.language.dataset import Unit
from models.language.scoring import score

CONFIDENT = 0.9  # the bar: predictions at least this sure must be right >= 97%


def accuracy(truth: Sequence[str], predicted: Sequence[str]) -> float | None:
    pairs = list(zip(truth, predicted, strict=True))
    return round(sum(t == p for t, p in pairs) / len(pairs), 4) if pairs else None


def by_length(
    texts: Sequence[str], truth: Sequence[str], predicted: Sequence[str], short_chars: int
) -> dict[str, Any]:
    short = [i for i, t in enumerate(texts) if len(t) < short_chars]
    long = [i for i, t in enumerate(texts) if len(t) >= short_chars]
    return {
        "n": len(texts),
        "accuracy": accuracy(truth, predicted),
        "n_short": len(short),
        "accuracy_short": accuracy([truth[i] for i in short], [predicted[i] for i in short]),
        "n_long": len(long),
        "accuracy_long": accuracy([truth[i] for i in long], [predicted[i] for i in long]),
    }


def per_language(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, float | None]:
    labels = sorted(set(truth))
    return {
        label: accuracy(
            [t for t in truth if t == label],
            [p for t, p in zip(truth, predicted, strict=True) if t == label],
        )
        for label in labels
    }


def confident(confidence: np.ndarray, correct: Sequence[bool]) -> dict[str, Any]:
    """How often the model is at least CONFIDENT sure, and how often it is then right."""
    picked = [c for conf, c in zip(confidence, correct, strict=True) if conf >= CONFIDENT]
    return {
        "threshold": CONFIDENT,
        "share": round(len(picked) / len(correct), 4) if correct else None,
        "accuracy": round(sum(picked) / len(picked), 4) if picked else None,
    }


def expected_calibration_error(confidence: np.ndarray, correct: Sequence[bool]) -> float:
    """|accuracy - confidence| averaged over 10 equal-width confidence bins."""
    conf = np.asarray(confidence, dtype=float)
    hit = np.asarray(correct, dtype=float)
    bins = np.minimum((conf * 10).astype(int), 9)
    total = 0.0
    for b in range(10):
        members = bins == b
        if members.any():
            total += members.mean() * abs(hit[members].mean() - conf[members].mean())
    return round(float(total), 4)


def heldout_metrics(
    estimator: Any, units: list[Unit], seed: int, short_chars: int
) -> dict[str, Any]:
    """Held-out accuracy overall, by length, per language, on 15-59 char snippets, and how
    well confidence matches accuracy."""
    texts = [u.text for u in units]
    truth = [u.label.split("-", 1)[0] for u in units]
    scores = score(estimator, texts)
    predicted = scores.best
    correct = [t == p for t, p in zip(truth, predicted, strict=True)]

    rng = random.Random(seed + 2)
    snip_texts, snip_truth = [], []
    for text, label in zip(texts, truth, strict=True):
        if len(text) > 30:
            size = rng.randint(15, short_chars - 1)
            start = rng.randint(0, max(0, len(text) - size))
            snip_texts.append(text[start : start + size].strip())
            snip_truth.append(label)
    snip_pred = score(estimator, snip_texts).best
    confusions = Counter((t, p) for t, p in zip(truth, predicted, strict=True) if t != p)
    lengths = by_length(texts, truth, predicted, short_chars)
    sure = confident(scores.confidence, correct)
    # Flat keys, as the API's /v1/models shows them (heldout_accuracy is relied upon).
    return {
        "heldout_units": lengths["n"],
        "heldout_accuracy": lengths["accuracy"],
        "heldout_short_units": lengths["n_short"],
        "heldout_accuracy_short": lengths["accuracy_short"],
        "heldout_long_units": lengths["n_long"],
        "heldout_accuracy_long": lengths["accuracy_long"],
        "heldout_snippet_units": len(snip_texts),
        "heldout_accuracy_snippets_15_59": accuracy(snip_truth, snip_pred),
        "heldout_confident_share": sure["share"],
        "heldout_confident_accuracy": sure["accuracy"],
        "heldout_expected_calibration_error": expected_calibration_error(
            scores.confidence, correct
        ),
        "heldout_mean_confidence": round(float(scores.confidence.mean()), 4),
        "per_language_accuracy": per_language(truth, predicted),
        "top_confusions": [
            {"true": t, "predicted": p, "count": n} for (t, p), n in confusions.most_common(10)
        ],
    }
