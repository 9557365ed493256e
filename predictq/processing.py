"""Processing a batch of delivered messages: decode, predict, write results.

Transport-free on purpose: the kombu consumer hands decoded bodies in and acks what
this returns as settled, so the same logic runs under RabbitMQ, the embedded transport
and the unit tests.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from models.loading import LoadedModel
from predictq import metrics
from predictq.jobs import Outcome, Status
from predictq.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """One message body as the worker received it."""

    body: Any

    @property
    def tracking_id(self) -> str | None:
        tid = self.body.get("tracking_id") if isinstance(self.body, dict) else None
        return tid if isinstance(tid, str) and tid else None


class BatchProcessor:
    """Predicts a micro-batch per model with one vectorised call and writes the results.

    A model that raises on the batch is retried input by input, so one poison input
    fails alone instead of failing its neighbours.
    """

    def __init__(self, store: Store, load_model: Callable[[str], LoadedModel]) -> None:
        self.store = store
        self.load_model = load_model

    def process(self, deliveries: Sequence[Delivery]) -> list[Outcome]:
        """Write an outcome for every well-formed delivery; return the outcomes.

        Raises only when the store cannot be written, in which case nothing may be
        acked: the broker will deliver the batch again.
        """
        by_model: dict[str, list[tuple[str, dict]]] = defaultdict(list)
        outcomes: list[Outcome] = []
        for d in deliveries:
            problem = _malformed(d)
            if problem is None:
                by_model[d.body["model"]].append((d.tracking_id, d.body["input"]))
            elif d.tracking_id is not None:
                outcomes.append(Outcome(d.tracking_id, Status.FAILED, error=problem))
            else:
                log.info("dropping a message with no tracking_id: %s", problem)
        ids = [tid for group in by_model.values() for tid, _ in group]
        if ids:
            self.store.mark_processing(ids)
        for model, group in by_model.items():
            outcomes.extend(self._predict(model, group))
        if outcomes:
            changed = set(self.store.finish(outcomes))
            self._record_metrics(outcomes, changed, deliveries)
        return outcomes

    def _predict(self, model: str, group: list[tuple[str, dict]]) -> list[Outcome]:
        try:
            loaded = self.load_model(model)
        except Exception as exc:
            log.error("cannot load model %r", model, exc_info=True)
            return [Outcome(tid, Status.FAILED, error=f"model {model!r} unavailable: {exc}")
                    for tid, _ in group]
        inputs = [item for _, item in group]
        try:
            results = loaded.predict(inputs)
        except Exception:
            log.info("batch of %d failed on %s; retrying one by one", len(inputs), model)
            return [self._predict_one(loaded, tid, item) for tid, item in group]
        return [Outcome(tid, Status.DONE, result=res, model_version=loaded.version)
                for (tid, _), res in zip(group, results, strict=True)]

    @staticmethod
    def _predict_one(loaded: LoadedModel, tid: str, item: dict) -> Outcome:
        try:
            (result,) = loaded.predict([item])
        except Exception as exc:
            log.info("prediction failed for %s: %r", tid, exc)
            return Outcome(tid, Status.FAILED, error=f"prediction failed: {exc}",
                           model_version=loaded.version)
        return Outcome(tid, Status.DONE, result=result, model_version=loaded.version)

    @staticmethod
    def _record_metrics(outcomes: Sequence[Outcome], changed: set[str],
                        deliveries: Sequence[Delivery]) -> None:
        bodies = {d.tracking_id: d.body for d in deliveries if d.tracking_id is not None}
        now = time.time()
        for outcome in outcomes:
            if outcome.tracking_id not in changed:
                continue  # a redelivery of something already final: counted once already
            body = bodies[outcome.tracking_id]
            created = body.get("created_at")
            latency = now - created if isinstance(created, int | float) else 0.0
            metrics.record_outcome(str(body.get("model")), outcome.status, latency)


def _malformed(d: Delivery) -> str | None:
    body = d.body
    if not isinstance(body, dict):
        return "message body is not a JSON object"
    if d.tracking_id is None:
        return "message has no tracking_id"
    if not isinstance(body.get("model"), str):
        return "message has no model name"
    if not isinstance(body.get("input"), dict):
        return "message input is not an object"
    return None
