"""Shadow comparison: a candidate version answers the live inputs of its model beside
the serving one, and its answers are stored next to what clients saw.

Optional and cheap when off: one dictionary lookup per micro-batch. When on, each batch
is predicted twice (the cost is measured in docs/BENCHMARKS.md). Nothing a shadow does
can change or fail a client's result: its errors are logged and counted.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from models.loading import LoadedModel
from predictq import metrics
from predictq.jobs import Outcome, Status
from predictq.lifecycle.records import ShadowResult
from predictq.lifecycle.serving import ModelServer
from predictq.store import Store

log = logging.getLogger(__name__)


def answer_label(result: Any) -> str | None:
    """The label a result stands for, to compare versions and feedback: `label`, or for
    a score with a verdict (`anomaly`), "anomalous" / "normal"."""
    if not isinstance(result, dict):
        return None
    if isinstance(result.get("label"), str):
        return result["label"]
    if isinstance(result.get("anomalous"), bool):
        return "anomalous" if result["anomalous"] else "normal"
    return None


class ShadowRunner:
    """The processor's `on_predicted` hook: runs the model's shadow version, if any."""

    def __init__(self, store: Store, server: ModelServer) -> None:
        self.store = store
        self.server = server

    def __call__(self, served: LoadedModel, group: list[tuple[str, dict]],
                 outcomes: list[Outcome]) -> None:
        shadow = self.server.shadow(served.name)
        if shadow is None or shadow.version == served.version:
            return
        done = [(tid, item, outcome) for (tid, item), outcome in zip(group, outcomes, strict=True)
                if outcome.status is Status.DONE]
        if not done:
            return
        try:
            results = shadow.predict([item for _, item, _ in done])
            now = time.time()
            self.store.models.put_shadow([
                ShadowResult(tid, served.name, shadow.version, served.version,
                             answer_label(result), answer_label(outcome.result), now)
                for (tid, _, outcome), result in zip(done, results, strict=True)])
        except Exception:
            log.warning("shadow %s %s failed on a batch of %d; clients are not affected",
                        served.name, shadow.version, len(done), exc_info=True)
            metrics.SHADOW_PREDICTIONS.labels(served.name, "failed").inc(len(done))
            return
        metrics.SHADOW_PREDICTIONS.labels(served.name, "stored").inc(len(done))
