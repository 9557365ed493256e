"""Submitting and reading jobs: the use cases behind the REST API, free of Flask.

Order matters for "accepted means never lost": the job is written to the store first,
then published with a broker confirm, then marked published (in the background, many at
once: predictq.publish_marks). The store write is the
commitment: if the broker is down the caller still hears 202, and the sweeper
(predictq.sweeper) publishes the job when the broker is back. If the store is down
nothing is accepted (503).
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from models.errors import InvalidModelInput, UnknownModelName
from models.registry import ModelSpec, get_spec
from predictq.availability import ArtifactCheck
from predictq.callbacks.targets import AllowList
from predictq.errors import (
    BrokerUnavailable,
    InvalidInput,
    InvalidRequest,
    ModelUnavailable,
    NotFound,
    UnknownModel,
)
from predictq.jobs import Job
from predictq.messaging import Publisher
from predictq.publish_marks import PublishedMarks
from predictq.settings import Settings
from predictq.store import Store

log = logging.getLogger(__name__)


class Intake:
    def __init__(self, settings: Settings, store: Store, publisher: Publisher) -> None:
        self.settings = settings
        self.store = store
        self.publisher = publisher
        self.marks: PublishedMarks[str] = PublishedMarks(store.mark_published)
        self.artifacts = ArtifactCheck(settings.resolved_model_dir)
        # Where completion callbacks may go (predictq.callbacks.targets); raises at
        # start-up for an allow-list without a signing secret.
        self.callback_targets = AllowList.from_settings(settings)

    def submit(self, body: Any, idempotency_key: str | None = None,
               owner: str | None = None) -> Job:
        """Validate, store and publish one submission; return its job. `owner` is the
        submitting API key's id (None with keys off)."""
        spec, inputs = self._parse(body, many=False)
        jobs = self._accept(spec, inputs, body, idempotency_key, owner)
        return jobs[0]

    def submit_batch(self, body: Any, idempotency_key: str | None = None,
                     owner: str | None = None) -> list[Job]:
        """All inputs are validated before any is stored: one bad input rejects the batch."""
        spec, inputs = self._parse(body, many=True)
        return self._accept(spec, inputs, body, idempotency_key, owner)

    def get(self, tracking_id: str) -> Job:
        job = self.store.get(tracking_id)
        if job is None:
            raise NotFound(f"no prediction with tracking_id {tracking_id!r}")
        return job

    def _accept(
        self, spec: ModelSpec, inputs: list[dict], body: Any, idempotency_key: str | None,
        owner: str | None = None,
    ) -> list[Job]:
        jobs = [Job(model=spec.name, input=item, owner=owner) for item in inputs]
        request_hash = _hash(body) if idempotency_key else None
        if "callback_url" in body:  # checked by _parse; stored with the jobs
            for job in jobs:
                job.callback_url = body["callback_url"]
        if idempotency_key is not None and owner is not None:
            # Per API key: one client's Idempotency-Key never answers with (or conflicts
            # with) another client's jobs.
            idempotency_key = f"{owner}:{idempotency_key}"
        stored, _ = self.store.create(jobs, idempotency_key, request_hash)
        pending = [job for job in stored if not job.published]
        if pending:
            try:
                self.publisher.publish(pending, spec.family)
            except BrokerUnavailable as exc:
                # Stored is accepted: the job waits in the store (the outbox) and the
                # sweeper publishes it once the broker is back.
                log.info("broker unavailable, %d job(s) left to the sweeper: %s",
                         len(pending), exc.message)
            else:
                self.marks.add(job.tracking_id for job in pending)
        return stored

    def explain(self, body: Any, *, many: bool) -> None:
        """Raise the error that says why a body its schema refused is refused (404 for an
        unknown model, 503 for one without an artifact, 422 naming the input): the
        checks `submit` runs, without storing anything (api/declare.py)."""
        self._parse(body, many=many)

    def close(self) -> None:
        """Write the pending published marks (see predictq.publish_marks)."""
        self.marks.close()

    def _parse(self, body: Any, *, many: bool) -> tuple[ModelSpec, list[dict]]:
        if not isinstance(body, dict):
            raise InvalidRequest("the request body must be a JSON object")
        name = body.get("model")
        if not isinstance(name, str) or not name:
            raise InvalidInput("'model' must be the name of a model, e.g. \"language\"")
        try:
            spec = get_spec(name)
        except UnknownModelName:
            raise UnknownModel(f"unknown model {name!r}") from None
        problem = self.artifacts.problem(spec.name)
        if problem is not None:
            raise ModelUnavailable(problem)
        field = "inputs" if many else "input"
        extra = set(body) - {"model", field, "callback_url"}
        if extra:
            raise InvalidInput(f"unexpected field(s): {', '.join(sorted(extra))}")
        if "callback_url" in body:
            self.callback_targets.check(body["callback_url"])
        if field not in body:
            raise InvalidInput(f"'{field}' is required")
        raw = body[field]
        if many:
            if not isinstance(raw, list) or not raw:
                raise InvalidInput("'inputs' must be a non-empty list")
            if len(raw) > self.settings.max_batch_inputs:
                raise InvalidInput(
                    f"'inputs' has {len(raw)} items; at most "
                    f"{self.settings.max_batch_inputs} are accepted per batch"
                )
        items = raw if many else [raw]
        return spec, [self._validate(spec, item, i if many else None)
                      for i, item in enumerate(items)]

    def _validate(self, spec: ModelSpec, item: Any, index: int | None) -> dict:
        try:
            return spec.validate(item, max_chars=self.settings.max_text_chars)
        except InvalidModelInput as exc:
            where = "" if index is None else f"inputs[{index}]: "
            raise InvalidInput(f"{where}{exc}") from None


def _hash(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
