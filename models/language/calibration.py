"""Turn naive Bayes scores into probabilities that mean what they say.

Naive Bayes adds up one log-probability per character n-gram as if they were
independent. Overlapping n-grams are anything but, so its posteriors are close to 0 or 1
for any text longer than a few words, right or wrong. The fix is a temperature that
grows with the amount of evidence:

    p(class | text) = softmax( a * jll(class, text) / n ** b )

where jll is the naive Bayes joint log-likelihood and n the number of n-gram and word
tokens in the text. a and b are fitted on texts the classifier was not trained on by
minimising the log-loss (b = 0 would be plain temperature scaling). Dividing by a
temperature never changes which class wins, only how sure the model says it is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

B_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
LOG_A_RANGE = (-10.0, 3.0)


def probabilities(
    jll: np.ndarray, tokens: np.ndarray, allowed: np.ndarray, a: float, b: float
) -> np.ndarray:
    """Row-normalised probabilities over classes; disallowed classes get exactly 0."""
    scale = a / np.maximum(tokens, 1.0) ** b
    logits = np.where(allowed, jll * scale[:, None], -np.inf)
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=1, keepdims=True)


def fold(proba: np.ndarray, classes: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Sum class columns into label columns ("sr-Cyrl" + "sr-Latn" -> "sr")."""
    index = {label: i for i, label in enumerate(labels)}
    merge = np.zeros((len(classes), len(labels)))
    for row, cls in enumerate(classes):
        merge[row, index[cls.split("-", 1)[0]]] = 1.0
    return proba @ merge


def log_loss(
    jll: np.ndarray,
    tokens: np.ndarray,
    allowed: np.ndarray,
    classes: Sequence[str],
    labels: Sequence[str],
    truth: np.ndarray,
    a: float,
    b: float,
) -> float:
    """Mean negative log-probability of the true label (an index into `labels`)."""
    proba = fold(probabilities(jll, tokens, allowed, a, b), classes, labels)
    picked = proba[np.arange(len(truth)), truth]
    return float(-np.mean(np.log(np.clip(picked, 1e-12, 1.0))))


def fit(
    jll: np.ndarray,
    tokens: np.ndarray,
    allowed: np.ndarray,
    classes: Sequence[str],
    truth_labels: Sequence[str],
) -> dict[str, float]:
    """The (a, b) with the lowest log-loss: a grid over b, golden-section search on log a."""
    labels = sorted({c.split("-", 1)[0] for c in classes})
    index = {label: i for i, label in enumerate(labels)}
    truth = np.array([index[label] for label in truth_labels])
    best = (math.inf, 1.0, 0.0)
    for b in B_GRID:

        def loss(log_a: float, b: float = b) -> float:
            return log_loss(jll, tokens, allowed, classes, labels, truth, math.exp(log_a), b)

        log_a = _golden_section(loss, *LOG_A_RANGE)
        value = loss(log_a)
        if value < best[0]:
            best = (value, math.exp(log_a), b)
    return {"a": best[1], "b": best[2], "log_loss": round(best[0], 5)}


def _golden_section(f, low: float, high: float, steps: int = 40) -> float:
    ratio = (math.sqrt(5) - 1) / 2
    x1, x2 = high - ratio * (high - low), low + ratio * (high - low)
    f1, f2 = f(x1), f(x2)
    for _ in range(steps):
        if f1 < f2:
            high, x2, f2 = x2, x1, f1
            x1 = high - ratio * (high - low)
            f1 = f(x1)
        else:
            low, x1, f1 = x1, x2, f2
            x2 = low + ratio * (high - low)
            f2 = f(x2)
    return (low + high) / 2
