"""Builds a ready-to-run worker from settings; nothing connects until `run()`."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from models.loading import LoadedModel
from predictq import messaging
from predictq.processing import BatchProcessor
from predictq.settings import Settings
from predictq.store import open_store
from worker.consumer import Worker


def create_worker(settings: Settings, *, batch_size: int | None = None,
                  batch_wait_ms: int | None = None,
                  families: Sequence[str] | None = None) -> Worker:
    model_dir = settings.resolved_model_dir

    # Loaded once per process on first use; a failed load is not cached and is retried.
    @functools.cache
    def load_model(name: str) -> LoadedModel:
        return LoadedModel.load(model_dir, name)

    processor = BatchProcessor(open_store(settings.resolved_store_url), load_model)
    return Worker(settings, processor, families or messaging.FAMILIES,
                  batch_size=batch_size, batch_wait_ms=batch_wait_ms)
