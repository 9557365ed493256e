"""The lifecycle's records, as the store keeps them. Timestamps are POSIX seconds."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from predictq.jobs import iso


class Action(StrEnum):
    PROMOTE = "promote"
    ROLLBACK = "rollback"
    SHADOW = "shadow"
    UNSHADOW = "unshadow"


@dataclass(frozen=True)
class Serving:
    """What the store says a model's workers run: `version` answers clients, `shadow`
    (if any) runs beside it. `generation` grows with every switch, so a worker compares
    one number to know whether anything changed."""

    model: str
    version: str | None
    shadow: str | None
    generation: int
    changed_at: float

    def to_public(self) -> dict[str, Any]:
        return {"version": self.version, "shadow": self.shadow,
                "generation": self.generation, "changed_at": iso(self.changed_at)}


@dataclass(frozen=True)
class Switch:
    """One decision in a model's history: a promotion, a rollback, a shadow on or off."""

    model: str
    action: Action
    version: str | None  # what serves (or shadows) after it
    previous: str | None  # what served (or shadowed) before it
    at: float
    reason: str = ""

    def to_public(self) -> dict[str, Any]:
        return {"action": self.action.value, "version": self.version,
                "previous": self.previous, "at": iso(self.at), "reason": self.reason}


@dataclass(frozen=True)
class Feedback:
    """The true answer for one job, with what the served version had said.

    `input` is the job's (validated) input, copied so evaluation and learning need not
    join the job table; `history` holds the labels this one replaced, oldest first."""

    tracking_id: str
    model: str
    version: str | None
    label: str
    predicted: str | None
    input: dict[str, Any]
    created_at: float
    updated_at: float
    history: tuple[str, ...] = ()

    @property
    def correct(self) -> bool:
        return self.label == self.predicted

    def to_public(self) -> dict[str, Any]:
        return {"tracking_id": self.tracking_id, "model": self.model,
                "model_version": self.version, "label": self.label,
                "predicted": self.predicted, "correct": self.correct,
                "previous_labels": list(self.history),
                "created_at": iso(self.created_at), "updated_at": iso(self.updated_at)}


@dataclass(frozen=True)
class ShadowResult:
    """A shadow version's answer to a job, beside the answer clients saw."""

    tracking_id: str
    model: str
    version: str
    served_version: str | None
    label: str | None
    served_label: str | None
    at: float

    @property
    def agrees(self) -> bool:
        return self.label == self.served_label


@dataclass(frozen=True)
class VersionCount:
    """How many results one version wrote, and over what span of time."""

    version: str
    predictions: int
    first_at: float
    last_at: float
