"""Promotion, rollback and shadow: the operator's decisions, written to the store, which
every worker follows within `model_poll_ms` (predictq.lifecycle.serving).

A version is promoted only if its artifact is in this folder and its bytes verify, and —
unless forced — only if it is not worse than the serving version on the feedback and
the held-out set (predictq.lifecycle.evaluation).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from models.artifacts import current_version
from models.errors import ModelError
from models.loading import LoadedModel
from models.registry import get_spec
from predictq.errors import ArtifactError, InvalidInput, PromotionRefused
from predictq.lifecycle import evaluation
from predictq.lifecycle.evaluation import SetScore
from predictq.lifecycle.records import Action, Switch
from predictq.store import Store

log = logging.getLogger(__name__)

DEFAULT_TOLERANCE = 0.005


@dataclass(frozen=True)
class Comparison:
    candidate: str
    serving: str
    candidate_scores: dict[str, SetScore]
    serving_scores: dict[str, SetScore]
    reasons: list[str] = field(default_factory=list)  # why the candidate is worse


def serving_version(store: Store, model_dir: Path, name: str) -> str:
    """The version answering clients: the store's decision, else the folder's CURRENT."""
    decision = store.models.serving().get(name)
    if decision is not None and decision.version is not None:
        return decision.version
    try:
        return current_version(model_dir, name)
    except ModelError as exc:
        raise ArtifactError(str(exc)) from None


def load_verified(model_dir: Path, name: str, version: str) -> LoadedModel:
    """Load `version`, refusing it unless it exists here and its bytes verify."""
    get_spec(name)
    try:
        return LoadedModel.load(model_dir, name, version)
    except ModelError as exc:
        raise ArtifactError(f"cannot use {name} {version}: {exc}") from None


def compare(store: Store, model_dir: Path, name: str, candidate: str,
            tolerance: float = DEFAULT_TOLERANCE) -> Comparison:
    """Score `candidate` and the serving version on the same truth sets."""
    serving = serving_version(store, model_dir, name)
    new = load_verified(model_dir, name, candidate)
    old = new if serving == candidate else load_verified(model_dir, name, serving)
    sets = evaluation.truth_sets(new, store.models.feedback(name))
    ours = evaluation.score(new, sets)
    theirs = ours if old is new else evaluation.score(old, sets)
    return Comparison(candidate, serving, ours, theirs,
                      evaluation.worse(ours, theirs, tolerance))


def promote(store: Store, model_dir: Path, name: str, version: str, *, force: bool = False,
            tolerance: float = DEFAULT_TOLERANCE, reason: str = "") -> Switch:
    generation = _generation(store, name)
    if version == serving_version(store, model_dir, name):
        raise InvalidInput(f"{name} {version} is already serving")
    if force:
        load_verified(model_dir, name, version)
        reason = reason or "forced"
    else:
        comparison = compare(store, model_dir, name, version, tolerance)
        if comparison.reasons:
            raise PromotionRefused(
                f"{name} {version} is worse than the serving {comparison.serving} on "
                + "; ".join(comparison.reasons) + " (force it to promote anyway)")
        reason = reason or summary(comparison)
    switch = store.models.switch(name, Action.PROMOTE, version, reason,
                                 expect_generation=generation)
    log.info("model %s: promoted %s (was %s): %s", name, version, switch.previous, reason)
    return switch


def rollback(store: Store, model_dir: Path, name: str, reason: str = "") -> Switch:
    """Serve again the version that served before the current one was promoted."""
    generation = _generation(store, name)
    serving = serving_version(store, model_dir, name)
    target = None
    for line in store.models.history(name, limit=1000):
        if line.action is Action.PROMOTE and line.version == serving:
            target = line.previous or current_version(model_dir, name)
            break
    if target is None or target == serving:
        raise InvalidInput(f"{name}: nothing to roll back to ({serving} was not promoted "
                           "over another version)")
    # No evaluation: a rollback returns to a version that served before.
    load_verified(model_dir, name, target)
    switch = store.models.switch(name, Action.ROLLBACK, target, reason or "rollback",
                                 expect_generation=generation)
    log.info("model %s: rolled back to %s (was %s)", name, target, serving)
    return switch


def shadow(store: Store, model_dir: Path, name: str, version: str | None,
           reason: str = "") -> Switch:
    """Put `version` in shadow beside the serving one, or stop shadowing (None)."""
    if version is None:
        switch = store.models.switch(name, Action.UNSHADOW, None, reason)
        log.info("model %s: shadow stopped (was %s)", name, switch.previous)
        return switch
    load_verified(model_dir, name, version)
    if version == serving_version(store, model_dir, name):
        raise InvalidInput(f"{name} {version} is the serving version; shadow another one")
    switch = store.models.switch(name, Action.SHADOW, version, reason)
    log.info("model %s: shadowing %s", name, version)
    return switch


def _generation(store: Store, name: str) -> int:
    decision = store.models.serving().get(name)
    return 0 if decision is None else decision.generation


def summary(c: Comparison) -> str:
    parts = []
    for set_name, ours in c.candidate_scores.items():
        theirs = c.serving_scores.get(set_name)
        if ours.accuracy is not None and theirs is not None and theirs.accuracy is not None:
            parts.append(f"{set_name} {ours.accuracy:.2%} vs {theirs.accuracy:.2%} "
                         f"(n={ours.n})")
    return "evaluated: " + ("; ".join(parts) or "no truth set")
