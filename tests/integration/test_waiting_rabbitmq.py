"""`?wait=` on RabbitMQ (issue 15): the worker announces completions on the fanout
exchange and the API process's own queue hears them."""

from __future__ import annotations

import time

import pytest
from kombu import Connection, Producer

from api.app import create_app
from predictq import connection
from predictq.completions.announce import Announcer
from predictq.completions.feeds import BrokerFeed
from predictq.completions.waiters import Waiters
from predictq.services import Services
from predictq.topology import completions_exchange
from tests.api.test_waiting import drain_later, submit

pytestmark = pytest.mark.rabbitmq


def test_a_waiting_request_hears_the_workers_announcement(amqp_settings):
    services = Services.build(amqp_settings)
    client = create_app(services=services).test_client()
    try:
        ids = submit(client, 3)
        worker = drain_later(amqp_settings, 3, delay=0.5)
        started = time.monotonic()
        r = client.get(f"/v1/predictions?ids={','.join(ids)}&wait=25")
        took = time.monotonic() - started
        assert {j["status"] for j in r.get_json()["predictions"]} == {"done"}
        assert took < 20
        worker.join(30)
        # The worker's announcements reached this process's queue.
        feed = services.completions._feed
        assert feed is not None and feed.connected.is_set() and feed.heard >= 3
    finally:
        services.close()
        with Connection(amqp_settings.broker_url) as conn:
            completions_exchange(amqp_settings)(conn.channel()).delete()


def test_the_feed_keeps_its_connection_while_announcements_flow(amqp_settings, monkeypatch):
    """Heartbeats go out while messages keep arriving: with them sent only when a read
    timed out, a steady flow starved them and the broker dropped the feed's connection
    after two missed heartbeats (every ~30 s in production, a 1 s stall each time)."""
    # Dropped after ~4-6 s without heartbeats; 2 s, not 1, so that the feed's idle loop
    # (a read of at most 1 s between checks) keeps up once the flow stops.
    monkeypatch.setattr(connection, "HEARTBEAT_S", 2)
    waiters = Waiters()
    feed = BrokerFeed(amqp_settings, waiters)
    feed.start()
    announcer = Announcer(amqp_settings)
    try:
        assert feed.connected.wait(10)
        with connection.connect(amqp_settings) as conn:
            producer = Producer(conn.channel())
            sent = 0
            with waiters.watching(["never-announced"]):  # someone waits all along
                deadline = time.monotonic() + 12  # about twice the drop time
                while time.monotonic() < deadline:
                    announcer.announce(producer, [f"job-{sent}"])
                    sent += 1
                    time.sleep(0.02)  # far more often than the read timeout (1 s)
        give_up = time.monotonic() + 5
        while feed.heard < sent and time.monotonic() < give_up:
            time.sleep(0.05)
        assert feed.connections == 1, "the broker dropped the feed's connection"
        assert feed.heard == sent
    finally:
        feed.stop()
        with Connection(amqp_settings.broker_url) as conn:
            completions_exchange(amqp_settings)(conn.channel()).delete()
