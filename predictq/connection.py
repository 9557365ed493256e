"""Connections to the broker: the embedded file-system transport, one RabbitMQ node, or
a cluster's nodes as a failover list.

`PREDICTQ_BROKER_URL` may name several AMQP URLs separated by `;` (kombu's failover
list). A connection starts at a node chosen at random, so a fleet's connections spread
over the cluster, and when a connection attempt fails kombu moves to the next URL. A
connection lost later (its node died) is not moved in place: the consumer loop
(worker/reconnect.py) and the publisher (predictq.messaging) open a fresh one, which
finds a live node the same way. Nothing is lost in the move: unacked deliveries go back
to their queue, and an unconfirmed publish is retried or left to the sweeper.
"""

from __future__ import annotations

import random

from amqp.connection import NEGOTIATE_CAPABILITIES
from kombu import Connection
from kombu.transport import pyamqp

from predictq.embedded import EmbeddedTransport
from predictq.settings import Settings

# A node that stops answering (paused, cut off) is noticed after two missed heartbeats:
# 20 s, not the minute that 30 s heartbeats took. Every long-lived connection has to
# call heartbeat_check() more often than this, whether or not messages flow.
HEARTBEAT_S = 10


def broker_urls(settings: Settings) -> list[str]:
    """The broker URLs in `PREDICTQ_BROKER_URL`, in the order given."""
    return [url.strip() for url in settings.resolved_broker_url.split(";") if url.strip()]


def connect(settings: Settings, *, confirm_each: bool = True) -> Connection:
    """A lazy kombu connection for the configured broker; nothing is opened yet.

    On AMQP each publish waits for its confirm, unless `confirm_each` is False: then
    the caller selects confirm mode and waits for confirms itself (the Publisher).
    """
    if settings.uses_embedded_broker:
        folder = settings.queue_dir.resolve()
        for sub in ("messages", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return Connection(
            "filesystem://",
            transport=EmbeddedTransport,
            transport_options={
                "data_folder_in": str(folder / "messages"),
                "data_folder_out": str(folder / "messages"),
                "control_folder": str(folder / "control"),
                "polling_interval": settings.poll_interval_ms / 1000,
            },
        )
    urls = broker_urls(settings)
    start = random.randrange(len(urls))  # spreading load, not a secret
    urls = urls[start:] + urls[:start]
    py_amqp = urls[0].startswith(("amqp://", "pyamqp://"))
    return Connection(
        ";".join(urls),
        transport=_AmqpTransport if py_amqp else None,
        failover_strategy="round-robin",
        heartbeat=HEARTBEAT_S,
        connect_timeout=5,
        # polling_interval only matters to polling transports (memory:// in the tests).
        transport_options={"confirm_publish": confirm_each,
                           "polling_interval": settings.poll_interval_ms / 1000},
    )


class _AmqpConnection(pyamqp.Connection):
    # Without the connection.blocked capability py-amqp skips the zero-timeout socket
    # read it makes before every basic_publish to look for a blocked notice: a third
    # of the publish's CPU (26 -> 15 us a message). Nothing here acts on the notice: a
    # blocked broker shows as confirms not arriving in time, and the jobs wait in the
    # store for the sweeper.
    negotiate_capabilities = {**NEGOTIATE_CAPABILITIES, "connection.blocked": False}


class _AmqpTransport(pyamqp.Transport):
    Connection = _AmqpConnection
