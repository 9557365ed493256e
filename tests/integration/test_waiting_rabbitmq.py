"""`?wait=` on RabbitMQ (issue 15): the worker announces completions on the fanout
exchange and the API process's own queue hears them."""

from __future__ import annotations

import time

import pytest
from kombu import Connection

from api.app import create_app
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
