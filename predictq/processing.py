"""Processing a batch of delivered messages: decode, predict, write results.

Transport-free on purpose: the kombu consumer hands decoded bodies in and acks what
this returns as settled, so the same logic runs under RabbitMQ, the embedded transport
and the unit tests.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from models.loading import LoadedModel
from models.registry import REGISTRY
from predictq import metrics
from predictq.jobs import Outcome, Status
from predictq.store import Store

log = logging.getLogger(__name__)


# (the model that answered, its (tracking id, input) pairs, their outcomes): told after
# every prediction, before the outcomes are written; must not raise.
OnPredicted = Callable[[LoadedModel, list[tuple[str, dict]], list[Outcome]], None]


@dataclass(frozen=True)
class Delivery:
    """One message body as the worker received it."""

    body: Any

    @property
    def tracking_id(self) -> str | None:
        tid = self.body.get("tracking_id") if isinstance(self.body, dict) else None
        return tid if isinstance(tid, str) and tid else None


@dataclass
class Report:
    """What became of a batch: outcomes written, and what the worker must still do."""

    outcomes: list[Outcome] = field(default_factory=list)
    dead: list[Delivery] = field(default_factory=list)  # to the dead-letter queue
    # For a model this worker cannot load: not attempted, not failed, back to the queue
    # for a worker that can (issue 13).
    left: list[Delivery] = field(default_factory=list)
    duplicates: int = 0  # deliveries of jobs already final: acked, not predicted again
    retried: int = 0  # deliveries of jobs seen before (a crash or a requeue)


class BatchProcessor:
    """Predicts a micro-batch per model with one vectorised call and writes the results.

    A model that raises on the batch is retried input by input, so one poison input
    fails alone instead of failing its neighbours. A job delivered before (its worker
    died, or the store refused the result) is predicted on its own, and after
    `max_attempts` deliveries it is failed and dead-lettered, so a job that kills its
    worker cannot do so forever. A delivery for a model this worker cannot load is
    neither attempted nor failed: it is `left` for the consumer to hand back.
    """

    def __init__(self, store: Store, load_model: Callable[[str], LoadedModel],
                 max_attempts: int = 5, retry_backoff_s: float = 0.5,
                 on_predicted: OnPredicted | None = None,
                 can_serve: Callable[[str], bool] | None = None) -> None:
        self.store = store
        self.load_model = load_model
        # Whether this worker can load a model; None: try `load_model`.
        self.can_serve = can_serve or self._loads
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s
        self.on_predicted = on_predicted

    def process(self, deliveries: Sequence[Delivery]) -> Report:
        """Settle every delivery: an outcome in the store, a dead letter, or a duplicate.

        Raises only when the store cannot be read or written, in which case nothing may
        be acked: the broker will deliver the batch again.
        """
        report = Report()
        valid: list[Delivery] = []
        servable: dict[str, bool] = {}
        for d in deliveries:
            problem = _malformed(d)
            if problem is None:
                model = d.body["model"]
                if model not in servable:
                    servable[model] = self.can_serve(model)
                if servable[model]:
                    valid.append(d)
                else:
                    # Not marked processing: a delivery another worker can serve must not
                    # use up the job's attempts here.
                    report.left.append(d)
                continue
            log.info("dead-lettering a malformed message: %s", problem)
            report.dead.append(d)
            if d.tracking_id is not None:
                report.outcomes.append(Outcome(d.tracking_id, Status.FAILED, error=problem))
        attempts = self.store.mark_processing([d.tracking_id for d in valid]) if valid else {}
        fresh: dict[str, list[tuple[str, dict]]] = defaultdict(list)
        for d in valid:
            tid, model = d.tracking_id, d.body["model"]
            n = attempts.get(tid)
            if n is None:
                report.duplicates += 1
            elif n > self.max_attempts:
                report.dead.append(d)
                report.outcomes.append(Outcome(
                    tid, Status.FAILED,
                    error=f"gave up after {n - 1} delivery attempts (see the dead-letter queue)"))
            elif n > 1:
                # Back off before trying again what may have killed a worker: 0.5, 1, 2 s...
                report.retried += 1
                time.sleep(min(self.retry_backoff_s * 2 ** (n - 2), 30.0))
                report.outcomes.extend(self._predict(model, [(tid, d.body["input"])]))
            else:
                fresh[model].append((tid, d.body["input"]))
        for model, group in fresh.items():
            report.outcomes.extend(self._predict(model, group))
        if report.outcomes:
            changed = set(self.store.finish(report.outcomes))
            self._record_metrics(report.outcomes, changed, deliveries)
        metrics.record_deliveries(report.duplicates, report.retried, len(report.dead))
        return report

    def _loads(self, model: str) -> bool:
        try:
            self.load_model(model)
        except Exception as exc:
            log.debug("model %r cannot be loaded here: %s", model, exc)
            return False
        return True

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
            outcomes = [self._predict_one(loaded, tid, item) for tid, item in group]
        else:
            outcomes = [Outcome(tid, Status.DONE, result=res, model_version=loaded.version)
                        for (tid, _), res in zip(group, results, strict=True)]
        outcomes = [_json_safe(outcome) for outcome in outcomes]
        if self.on_predicted is not None:
            self.on_predicted(loaded, group, outcomes)
        return outcomes

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
        recorded = []
        for outcome in outcomes:
            if outcome.tracking_id not in changed:
                continue  # a redelivery of something already final: counted once already
            body = bodies[outcome.tracking_id]
            created = body.get("created_at")
            latency = now - created if isinstance(created, int | float) else 0.0
            recorded.append((str(body.get("model")), outcome.status, latency))
        metrics.record_outcomes(recorded)


def _json_safe(outcome: Outcome) -> Outcome:
    """A result holding NaN or infinity fails its job instead of being written.

    Neither is JSON: the store would keep a document that the browser's JSON.parse, and
    most clients, refuse whole (issue 13: an anomaly score of NaN). The models are meant
    never to produce one; this is the boundary that holds if one does.
    """
    if outcome.result is None or _finite(outcome.result):
        return outcome
    log.warning("%s: the model's result holds a NaN or infinity; failing the job",
                outcome.tracking_id)
    return Outcome(outcome.tracking_id, Status.FAILED,
                   error="prediction failed: the model's result holds a number that is not "
                         "finite (NaN or infinity), which JSON cannot carry",
                   model_version=outcome.model_version)


def _finite(value: Any) -> bool:
    if isinstance(value, float):  # numpy's float64 too
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_finite(v) for v in value)
    return True


def _malformed(d: Delivery) -> str | None:
    body = d.body
    if not isinstance(body, dict):
        return "message body is not a JSON object"
    if d.tracking_id is None:
        return "message has no tracking_id"
    if not isinstance(body.get("model"), str):
        return "message has no model name"
    if body["model"] not in REGISTRY:
        return f"unknown model {body['model']!r}"
    if not isinstance(body.get("input"), dict):
        return "message input is not an object"
    return None
