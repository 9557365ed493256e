"""Builds a ready-to-run worker from settings; nothing connects until `run()`."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from predictq import messaging, retention
from predictq.callbacks import delivery as callbacks
from predictq.lifecycle.learning import LearningTask
from predictq.lifecycle.serving import ModelServer
from predictq.lifecycle.shadow import ShadowRunner
from predictq.messaging import Publisher
from predictq.processing import BatchProcessor
from predictq.retention import Retention
from predictq.service_alerts import delivery
from predictq.service_alerts.monitor import AlertMonitor
from predictq.settings import Settings
from predictq.store import open_store
from predictq.streams.processor import StreamProcessor
from predictq.streams.sweeping import StreamSweeper
from predictq.streams.webhook import AlertDeliverer
from predictq.sweeper import Sweeper
from worker.availability import ServableModels
from worker.consumer import Worker
from worker.streams import StreamConsumer

log = logging.getLogger(__name__)


def create_worker(settings: Settings, *, batch_size: int | None = None,
                  batch_wait_ms: int | None = None,
                  families: Sequence[str] | None = None, sweep: bool = True) -> Worker:
    model_dir = settings.resolved_model_dir
    families = tuple(families or messaging.FAMILIES)
    store = open_store(settings.resolved_store_url)
    retention.configure(settings, store)
    server = ModelServer(store, model_dir, poll_s=settings.model_poll_ms / 1000)
    # Load before consuming: unpickling and importing scikit-learn take about a second,
    # which the first message of each model would otherwise wait for. What cannot load
    # decides which queues this worker leaves to others (worker.availability).
    servable = ServableModels(server, families)
    servable.check()
    processor = BatchProcessor(store, server.model, max_attempts=settings.max_attempts,
                               on_predicted=ShadowRunner(store, server),
                               can_serve=servable.can_serve)
    publisher = Publisher(settings)
    sweeper = (Sweeper(settings, store, publisher,
                       tasks=[StreamSweeper(settings, store, publisher),
                              LearningTask(settings, store), Retention(settings, store),
                              AlertMonitor(settings, store, publisher)])
               if sweep else None)
    return Worker(settings, processor, families, batch_size=batch_size,
                  batch_wait_ms=batch_wait_ms, sweeper=sweeper, model_server=server,
                  servable=servable, publisher=publisher)


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


def create_callback_deliverer(settings: Settings) -> AlertDeliverer | None:
    """The completion callbacks' deliverer, or None when callbacks are off (an empty
    PREDICTQ_CALLBACK_ALLOW: owed callbacks then wait until it is set again)."""
    if not settings.callback_allow.strip():
        return None
    return callbacks.deliverer(settings, open_store(settings.resolved_store_url))


def create_service_alert_deliverer(settings: Settings) -> AlertDeliverer | None:
    """The service alerts' webhook deliverer, or None when no webhook is configured."""
    if not delivery.webhook_url(settings):
        return None
    return delivery.deliverer(settings, open_store(settings.resolved_store_url))
