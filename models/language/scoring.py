"""Score texts with a fitted `language` pipeline: the one path training, evaluation and
the workers share.

naive Bayes log-likelihoods -> classes ruled out by script -> calibrated probabilities
-> Serbian's two script classes folded into "sr".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.language import calibration
from models.language.languages import SCRIPTS, base_label
from models.language.scripts import classifier_text, dominant_scripts, mask_of
from models.language.text import for_features

# Set on the fitted Pipeline by train.py: {"a": ..., "b": ...}. A plain attribute, so the
# artifact stays a plain scikit-learn object.
CALIBRATION_ATTRIBUTE = "language_calibration_"


@dataclass(frozen=True)
class Scores:
    labels: list[str]  # the public labels, the columns of `proba`
    proba: np.ndarray  # (n_texts, n_labels), rows sum to 1

    @property
    def best(self) -> list[str]:
        return [self.labels[i] for i in self.proba.argmax(axis=1)]

    @property
    def confidence(self) -> np.ndarray:
        return self.proba.max(axis=1)


def raw(estimator: Any, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(joint log-likelihoods, token counts, script mask) of each text, per class."""
    found = [dominant_scripts(t) for t in texts]
    features = estimator.named_steps["features"].transform(
        [for_features(classifier_text(t, f)) for t, f in zip(texts, found, strict=True)]
    )
    nb = estimator.named_steps["nb"]
    jll = nb.predict_joint_log_proba(features)
    tokens = np.asarray(features.sum(axis=1), dtype=np.float64).ravel()
    allowed = mask_of(found, [str(c) for c in nb.classes_], SCRIPTS)
    return jll, tokens, allowed


def score(estimator: Any, texts: Sequence[str]) -> Scores:
    """Calibrated probabilities over the public labels for each text, in one pass."""
    classes = [str(c) for c in estimator.named_steps["nb"].classes_]
    labels = sorted({base_label(c) for c in classes})
    if not texts:
        return Scores(labels, np.zeros((0, len(labels))))
    jll, tokens, allowed = raw(estimator, texts)
    params = getattr(estimator, CALIBRATION_ATTRIBUTE)
    proba = calibration.probabilities(jll, tokens, allowed, params["a"], params["b"])
    return Scores(labels, calibration.fold(proba, classes, labels))
