"""Feedback on a result: the true answer, stored with the job and the version that gave
the served one."""

from __future__ import annotations

import time
from typing import Any

from models.errors import UnknownModelName
from models.registry import get_spec
from predictq import metrics
from predictq.errors import InvalidInput, InvalidRequest, JobNotFinished, NotFound
from predictq.jobs import Status
from predictq.lifecycle.records import Feedback
from predictq.lifecycle.shadow import answer_label
from predictq.store import Store

MAX_LABEL_CHARS = 64


def parse_body(body: Any) -> str:
    """The label of a `{"label": ...}` body; InvalidRequest/InvalidInput saying why not."""
    if not isinstance(body, dict) or set(body) != {"label"}:
        raise InvalidRequest('the body must be an object with one field: {"label": ...}')
    label = body["label"]
    if not isinstance(label, str) or not 0 < len(label) <= MAX_LABEL_CHARS:
        raise InvalidInput(f"label must be a non-empty string of at most {MAX_LABEL_CHARS} "
                           "characters")
    return label


def give(store: Store, tracking_id: str, body: Any) -> Feedback:
    """Record `{"label": ...}` as the truth for a done job; return what is stored.

    404 for an unknown job, 409 while it is not done (a failed job has no answer to
    judge), 422 for a label the model cannot give or a model that takes no feedback."""
    label = parse_body(body)
    job = store.get(tracking_id)
    if job is None:
        raise NotFound(f"no prediction with tracking id {tracking_id!r}")
    if job.status is not Status.DONE:
        raise JobNotFinished(
            f"prediction {tracking_id} is {job.status.value}: feedback is for done results")
    try:
        spec = get_spec(job.model)
    except UnknownModelName:
        raise InvalidInput(f"model {job.model!r} is no longer served") from None
    if not spec.labels:
        raise InvalidInput(f"model {job.model!r} has no labels to give feedback on")
    if label not in spec.labels:
        raise InvalidInput(f"{label!r} is not a label of model {job.model!r}; its labels are "
                           + ", ".join(spec.labels))
    now = time.time()
    stored = store.models.put_feedback(Feedback(
        tracking_id, job.model, job.model_version, label, answer_label(job.result), job.input,
        now, now))
    if stored.updated_at == now:  # this call changed something
        metrics.FEEDBACK.labels(job.model, str(stored.correct).lower()).inc()
    return stored
