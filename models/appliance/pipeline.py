"""The `appliance` pipeline: frame resampling → interval quantiles → extra trees.

The transformers live in models.appliance.features, so unpickling an artifact imports
that module: it must stay importable under that name (artifacts are hash-checked first).
"""

from __future__ import annotations

from typing import Any

from sklearn.ensemble import ExtraTreesClassifier
from sklearn.pipeline import Pipeline

from models.appliance.features import FrameResampler, IntervalQuantiles

DEFAULT_PARAMS: dict[str, Any] = {
    "channels": 4,  # ACSF1 interleaves 4 measurement channels
    "steps": 365,  # time steps per channel in a training series (1460 / 4)
    "depth": 6,  # dyadic interval levels: 1, 2, 4, ... 32 intervals
    "quantile_divisor": 4,  # an interval of n values contributes n / 4 quantiles
    "n_estimators": 200,
    # Few features per split: ~15k highly redundant features, 100 training series.
    "max_features": 0.1,
    "criterion": "entropy",
    "random_state": 0,
}


def build_pipeline(**params: Any) -> Pipeline:
    """A fresh, unfitted pipeline; keyword arguments override DEFAULT_PARAMS."""
    unknown = set(params) - set(DEFAULT_PARAMS) - {"n_jobs"}
    if unknown:
        raise TypeError(f"unknown pipeline parameters: {', '.join(sorted(unknown))}")
    p = {**DEFAULT_PARAMS, **params}
    return Pipeline([
        ("frames", FrameResampler(channels=p["channels"], steps=p["steps"])),
        ("quantiles", IntervalQuantiles(depth=p["depth"],
                                        quantile_divisor=p["quantile_divisor"])),
        ("trees", ExtraTreesClassifier(
            n_estimators=p["n_estimators"], max_features=p["max_features"],
            criterion=p["criterion"], random_state=p["random_state"],
            n_jobs=params.get("n_jobs", 1))),
    ])
