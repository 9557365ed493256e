"""The worker's side: after a batch's outcomes are written, name the finished jobs on
the completions fanout exchange (RabbitMQ only; on the embedded defaults the API reads
the store instead, `feeds.StoreFeed`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from kombu import Producer

from predictq import topology
from predictq.settings import Settings

log = logging.getLogger(__name__)


class Announcer:
    """Publishes on the worker's own channel, transient and unconfirmed: an
    announcement only spares a waiter its wait, the result is already in the store."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.exchange = topology.completions_exchange(settings)
        self._declared_on: object = None

    def announce(self, producer: Producer | None, tracking_ids: Sequence[str]) -> None:
        if producer is None or not tracking_ids or self.settings.uses_embedded_broker:
            return
        channel = producer.channel
        try:
            if self._declared_on is not channel:
                self.exchange(channel).declare()
                self._declared_on = channel
            message = channel.prepare_message(
                json.dumps({"ids": list(tracking_ids)}), content_type="application/json",
                content_encoding="utf-8", properties={"delivery_mode": 1})
            channel.basic_publish(message, exchange=self.exchange.name, routing_key="")
        except Exception as exc:
            # A broken channel shows at the batch's ack, which reconnects the consumer.
            log.info("could not announce %d completion(s): %s", len(tracking_ids), exc)
