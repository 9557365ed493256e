"""The `language` pipeline: character n-gram TF-IDF + a calibrated linear SVM.

Plain scikit-learn objects only, so an artifact unpickles without any of our code.
"""

from __future__ import annotations

from typing import Any

from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

DEFAULT_PARAMS: dict[str, Any] = {
    # char_wb: n-grams inside word boundaries, padded with a space, so word starts and
    # ends (strong language cues) are features of their own.
    "analyzer": "char_wb",
    "ngram_range": (1, 3),
    "sublinear_tf": True,
    "lowercase": True,
    # Rare n-grams are mostly names and typos; dropping them keeps the artifact small.
    "min_df": 2,
    "max_features": 100_000,
    "C": 0.5,
    # 3 folds: calibration needs out-of-fold scores, and each fold costs one full fit.
    "calibration_cv": 3,
    # Temperature scaling: one softmax temperature for all languages. It is multiclass
    # by nature and keeps the SVM's ranking, so calibrating never changes a label
    # (one-vs-rest sigmoids can), and it fits in a fraction of the time.
    "calibration_method": "temperature",
    "random_state": 0,
}


def build_pipeline(**params: Any) -> Pipeline:
    """A fresh, unfitted pipeline; keyword arguments override DEFAULT_PARAMS."""
    unknown = set(params) - set(DEFAULT_PARAMS)
    if unknown:
        raise TypeError(f"unknown pipeline parameters: {', '.join(sorted(unknown))}")
    p = {**DEFAULT_PARAMS, **params}
    vectorizer = TfidfVectorizer(
        analyzer=p["analyzer"],
        ngram_range=tuple(p["ngram_range"]),
        sublinear_tf=p["sublinear_tf"],
        lowercase=p["lowercase"],
        min_df=p["min_df"],
        max_features=p["max_features"],
    )
    svm = LinearSVC(C=p["C"], random_state=p["random_state"])
    # ensemble=False: one SVM fitted on all the data serves predictions, calibrated on
    # out-of-fold scores; the ensemble would keep one weight matrix per fold and make
    # the artifact `calibration_cv` times larger for no gain in accuracy.
    classifier = CalibratedClassifierCV(
        svm, method=p["calibration_method"], cv=p["calibration_cv"], ensemble=False
    )
    return Pipeline([("tfidf", vectorizer), ("clf", classifier)])
