"""Learning from feedback (the online-learning reference): the serving version of a
model that can learn incrementally (`ModelSpec.learn`, e.g. naive Bayes `partial_fit`)
is updated with the labelled inputs, saved as a new candidate version, evaluated
against the serving one, and promoted only if it is not worse — automatically when
the operator enabled it, otherwise it waits for `predictq models promote`.

What one client can do to a model through feedback: its labels become training
examples of a candidate, never of the serving version directly. A candidate that got
worse on the held-out set (which no client can touch) is kept but not promoted, however
it does on the feedback. Each job counts once, with its latest label.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from models.artifacts import save_artifact
from models.registry import REGISTRY, get_spec
from predictq import metrics
from predictq.errors import InvalidInput, PredictqError
from predictq.lifecycle import decisions
from predictq.lifecycle.decisions import Comparison
from predictq.lifecycle.records import Action
from predictq.settings import Settings
from predictq.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Learned:
    model: str
    base: str
    version: str
    labels: int
    comparison: Comparison
    promoted: bool


def learn(store: Store, model_dir: Path, name: str, *, promote: bool = False,
          tolerance: float = decisions.DEFAULT_TOLERANCE) -> Learned:
    """One round: learn from all of the model's feedback, starting from the serving
    version; keep the result as a candidate and promote it if asked and not worse."""
    spec = get_spec(name)
    if spec.learn is None:
        raise InvalidInput(f"model {name!r} cannot learn incrementally")
    feedback = [f for f in store.models.feedback(name) if f.label in spec.labels]
    if not feedback:
        raise InvalidInput(f"model {name!r} has no feedback to learn from")
    base = decisions.serving_version(store, model_dir, name)
    loaded = decisions.load_verified(model_dir, name, base)
    estimator = spec.learn(loaded.estimator, [f.input for f in feedback],
                           [f.label for f in feedback])
    learned_from = {"base": base, "feedback": len(feedback),
                    "through": max(f.updated_at for f in feedback)}
    manifest = save_artifact(
        estimator, model_dir, name, data={**loaded.manifest.data, "learned_from": learned_from},
        metrics=loaded.manifest.metrics, params=loaded.manifest.params, make_current=False)
    comparison = decisions.compare(store, model_dir, name, manifest.version, tolerance)
    promoted = False
    if comparison.reasons:
        log.warning("model %s: version %s learned from %d labels is worse than %s (%s); "
                    "kept, not promoted", name, manifest.version, len(feedback), base,
                    "; ".join(comparison.reasons))
        metrics.LEARNED.labels(name, "worse").inc()
    elif promote and manifest.version != base:
        store.models.switch(name, Action.PROMOTE, manifest.version,
                            f"learned from {len(feedback)} labels; "
                            + decisions.summary(comparison))
        promoted = True
        metrics.LEARNED.labels(name, "promoted").inc()
    else:
        metrics.LEARNED.labels(name, "kept").inc()
    log.info("model %s: learned %s from %s and %d labels (%s)%s", name, manifest.version,
             base, len(feedback), decisions.summary(comparison),
             "; promoted" if promoted else "")
    return Learned(name, base, manifest.version, len(feedback), comparison, promoted)


class LearningTask:
    """A sweeper task: learn once each time a model's feedback count crosses another
    multiple of `learn_every`. The store's claim makes one worker of the fleet do it."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store

    def __call__(self) -> None:
        every = self.settings.learn_every
        if every <= 0:
            return
        for spec in REGISTRY.values():
            if spec.learn is None:
                continue
            mark = self.store.models.feedback_count(spec.name) // every * every
            if mark == 0 or not self.store.models.claim_learning(spec.name, mark):
                continue
            try:
                learn(self.store, self.settings.resolved_model_dir, spec.name,
                      promote=self.settings.learn_auto_promote)
            except PredictqError as exc:
                log.warning("model %s: learning at %d labels skipped: %s", spec.name, mark,
                            exc.message)
                metrics.LEARNED.labels(spec.name, "failed").inc()


