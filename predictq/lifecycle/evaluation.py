"""Scoring a version on what is known to be true: every input whose feedback gives its
true label, and the model's own held-out set. The regression suite `predictq evaluate`
runs and promotion is guarded by."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from models.loading import LoadedModel
from predictq.lifecycle.records import Feedback
from predictq.lifecycle.shadow import answer_label

CHUNK = 512  # inputs per predict call: vectorised, but bounded in memory
FEEDBACK_SET = "feedback"
HELDOUT_SET = "held-out"


@dataclass(frozen=True)
class SetScore:
    name: str
    n: int
    correct: int

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.correct, self.n)

    def to_public(self) -> dict[str, Any]:
        interval = self.interval
        return {"set": self.name, "n": self.n, "correct": self.correct,
                "accuracy": _round(self.accuracy),
                "accuracy_ci95": None if interval is None else [_round(v) for v in interval]}


def wilson(correct: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (95% by default): honest for small n
    and for proportions near 0 or 1, where the normal approximation is not."""
    if n <= 0:
        return None
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def labels_of(loaded: LoadedModel, inputs: Sequence[dict[str, Any]]) -> list[str | None]:
    out: list[str | None] = []
    for start in range(0, len(inputs), CHUNK):
        out.extend(answer_label(r) for r in loaded.predict(inputs[start:start + CHUNK]))
    return out


def truth_sets(loaded: LoadedModel, feedback: Sequence[Feedback]
               ) -> dict[str, tuple[list[dict[str, Any]], list[str]]]:
    """The sets a version of this model is scored on: (inputs, true labels) by name."""
    sets = {}
    if feedback:
        sets[FEEDBACK_SET] = ([f.input for f in feedback], [f.label for f in feedback])
    if loaded.spec.heldout is not None:
        sets[HELDOUT_SET] = loaded.spec.heldout()
    return sets


def score(loaded: LoadedModel, sets: dict[str, tuple[list[dict[str, Any]], list[str]]]
          ) -> dict[str, SetScore]:
    scores = {}
    for name, (inputs, truth) in sets.items():
        predicted = labels_of(loaded, inputs)
        correct = sum(p == t for p, t in zip(predicted, truth, strict=True))
        scores[name] = SetScore(name, len(truth), correct)
    return scores


def worse(candidate: dict[str, SetScore], serving: dict[str, SetScore],
          tolerance: float) -> list[str]:
    """Why `candidate` is worse than `serving` (empty: it is not): on any set both were
    scored on, an accuracy lower by more than `tolerance` (a fraction: 0.005 = half a
    point)."""
    reasons = []
    for name, theirs in serving.items():
        ours = candidate.get(name)
        if ours is None or ours.accuracy is None or theirs.accuracy is None:
            continue
        if ours.accuracy < theirs.accuracy - tolerance:
            reasons.append(f"{name}: {ours.accuracy:.2%} against {theirs.accuracy:.2%} "
                           f"({ours.n} inputs)")
    return reasons


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
