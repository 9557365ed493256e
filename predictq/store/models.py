"""The model-lifecycle side of the store: what serves, what shadows, what feedback said.

Every backend reaches it as `store.models` and passes tests/store/test_models.py. The
decisions live here and nowhere else (a worker only caches them), so every API and
worker process of a deployment sees one answer; the artifact folder holds the bytes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from predictq.lifecycle.records import (
    Action,
    Feedback,
    Serving,
    ShadowResult,
    Switch,
    VersionCount,
)


class ModelStore(ABC):
    @abstractmethod
    def serving(self) -> dict[str, Serving]:
        """Every model that has a decision on record, by name (one cheap read: workers
        poll it)."""

    @abstractmethod
    def switch(self, model: str, action: Action, version: str | None,
               reason: str = "", expect_generation: int | None = None) -> Switch:
        """Record a decision and return it as written, atomically with its history line.

        PROMOTE and ROLLBACK set the serving version; SHADOW sets the shadow version and
        UNSHADOW clears it (`version` None). A promotion of the version in shadow also
        clears the shadow. The generation grows by one. With `expect_generation`, the
        switch happens only if the generation is still that (`StaleDecision`
        otherwise), so two operators cannot both act on what they last saw.
        """

    @abstractmethod
    def history(self, model: str, limit: int = 50) -> list[Switch]:
        """The model's decisions, newest first."""

    @abstractmethod
    def put_feedback(self, feedback: Feedback) -> Feedback:
        """Store `feedback` as the job's true label and return what is stored.

        The same label again changes nothing (the stored record is returned as it was);
        another label replaces it, the replaced one appended to `history`, and
        `updated_at` becomes the new record's. Concurrent calls for one job are
        serialised: no label is lost from the history.
        """

    @abstractmethod
    def get_feedback(self, tracking_id: str) -> Feedback | None:
        """The job's current feedback, or None."""

    @abstractmethod
    def feedback(self, model: str, limit: int = 100_000,
                 with_input: bool = True) -> list[Feedback]:
        """The model's current feedback, oldest first, at most `limit` (the newest);
        without `with_input`, each `input` is `{}` (reports need no texts)."""

    @abstractmethod
    def feedback_count(self, model: str) -> int:
        """How many jobs of `model` have feedback (learning triggers on this)."""

    @abstractmethod
    def put_shadow(self, results: Sequence[ShadowResult]) -> None:
        """Store shadow answers; one per (tracking id, version): a repeat is ignored."""

    @abstractmethod
    def shadow_results(self, model: str, version: str | None = None,
                       tracking_ids: Sequence[str] | None = None,
                       limit: int = 100_000) -> list[ShadowResult]:
        """Shadow answers of `model` (of one version, for some jobs), newest first."""

    @abstractmethod
    def shadow_summary(self, model: str) -> dict[str, tuple[int, int]]:
        """Per shadow version: (answers, answers agreeing with the served one)."""

    @abstractmethod
    def prediction_counts(self, model: str) -> list[VersionCount]:
        """Per version that wrote a `done` result of `model`: how many, first and last
        (by the result's `updated_at`), oldest first."""

    @abstractmethod
    def claim_learning(self, model: str, feedback_count: int) -> bool:
        """Claim the learning round at `feedback_count` labels: True for exactly one
        caller per (model, count), so workers that all see the count cross a threshold
        learn once between them."""


def apply_switch(action: Action, version: str | None, serving: str | None,
                 shadow: str | None) -> tuple[str | None, str | None, str | None]:
    """(serving, shadow, previous) after `action`; shared by every backend."""
    if action in (Action.PROMOTE, Action.ROLLBACK):
        if version is None:
            raise ValueError(f"{action.value} needs a version")
        return version, (None if shadow == version else shadow), serving
    if action is Action.SHADOW:
        if version is None:
            raise ValueError("shadow needs a version")
        return serving, version, shadow
    return serving, None, shadow


def merge_feedback(stored: Feedback | None, new: Feedback) -> Feedback:
    """What `put_feedback` keeps: `stored` itself when nothing changes."""
    if stored is None:
        return new
    if stored.label == new.label:
        return stored
    return Feedback(stored.tracking_id, stored.model, stored.version, new.label,
                    stored.predicted, stored.input, stored.created_at, new.updated_at,
                    (*stored.history, stored.label))
