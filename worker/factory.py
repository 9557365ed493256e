"""Builds a ready-to-run worker from settings; nothing connects until `run()`."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path

from models.artifacts import available
from models.loading import LoadedModel
from models.registry import REGISTRY
from predictq import messaging
from predictq.messaging import Publisher
from predictq.processing import BatchProcessor
from predictq.settings import Settings
from predictq.store import open_store
from predictq.streams.processor import StreamProcessor
from predictq.streams.sweeping import StreamSweeper
from predictq.streams.webhook import AlertDeliverer
from predictq.sweeper import Sweeper
from worker.consumer import Worker
from worker.streams import StreamConsumer

log = logging.getLogger(__name__)


# Once per process and artifact folder; a failed load is not cached and is retried.
@functools.lru_cache(maxsize=32)
def _load(model_dir: Path, name: str) -> LoadedModel:
    return LoadedModel.load(model_dir, name)


def create_worker(settings: Settings, *, batch_size: int | None = None,
                  batch_wait_ms: int | None = None,
                  families: Sequence[str] | None = None, sweep: bool = True) -> Worker:
    model_dir = settings.resolved_model_dir

    def load_model(name: str) -> LoadedModel:
        return _load(model_dir, name)

    families = tuple(families or messaging.FAMILIES)
    # Load before consuming: unpickling and importing scikit-learn take about a second,
    # which the first message of each model would otherwise wait for.
    for spec in REGISTRY.values():
        if spec.family in families and available(model_dir, spec.name):
            loaded = load_model(spec.name)
            log.info("loaded model %s %s", loaded.name, loaded.version)
    store = open_store(settings.resolved_store_url)
    processor = BatchProcessor(store, load_model, max_attempts=settings.max_attempts)
    publisher = Publisher(settings)
    sweeper = (Sweeper(settings, store, publisher,
                       tasks=[StreamSweeper(settings, store, publisher)])
               if sweep else None)
    return Worker(settings, processor, families, batch_size=batch_size,
                  batch_wait_ms=batch_wait_ms, sweeper=sweeper)


def create_stream_consumer(settings: Settings, *, batch_size: int | None = None,
                           batch_wait_ms: int | None = None) -> StreamConsumer:
    """The sensor-stream consumer; its housekeeping runs in the job worker's sweeper."""
    store = open_store(settings.resolved_store_url)
    processor = StreamProcessor(settings, store, Publisher(settings))
    return StreamConsumer(settings, processor, batch_size=batch_size,
                          batch_wait_ms=batch_wait_ms)


def create_alert_deliverer(settings: Settings) -> AlertDeliverer | None:
    """The webhook deliverer, or None when no webhook is configured."""
    if not settings.alert_webhook_url:
        return None
    return AlertDeliverer(settings, open_store(settings.resolved_store_url))
