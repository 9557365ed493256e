"""A failover list in PREDICTQ_BROKER_URL (`url1;url2;…`): every part of predictq finds
the node that answers, whichever URL it happens to try first. Losing a live node under
load is tested on a real cluster (tests/integration/test_node_loss.py)."""

from __future__ import annotations

import pytest

from predictq.connection import broker_urls, connect
from predictq.jobs import Job, Status
from predictq.messaging import Publisher
from predictq.services import Services
from predictq.settings import Settings
from tests.conftest import drain

pytestmark = pytest.mark.rabbitmq

DEAD = "amqp://guest:guest@127.0.0.1:1//"  # nothing listens there: refused at once


def test_the_list_is_split_and_each_connection_starts_somewhere_on_it():
    settings = Settings(broker_url=f" {DEAD};amqp://a// ; amqp://b//;")
    assert broker_urls(settings) == [DEAD, "amqp://a//", "amqp://b//"]
    firsts = {connect(settings).as_uri(include_password=True) for _ in range(60)}
    assert len(firsts) == 3  # spread over the nodes, not always the first


def test_publisher_and_worker_reach_the_live_node_past_dead_ones(amqp_settings):
    settings = amqp_settings.replace(broker_url=f"{DEAD};{amqp_settings.broker_url};{DEAD}")
    services = Services.build(settings)
    try:
        jobs = [Job(model="language", input={"text": f"Dobré ráno, číslo {i}."})
                for i in range(20)]
        services.store.create(jobs)
        for i in range(0, 20, 2):  # many fresh connections: every start gets its turn
            publisher = Publisher(settings)
            publisher.publish(jobs[i:i + 2], "text")
            publisher.close()
        assert drain(settings, 20, timeout=60) == 20
        assert services.store.count_by_status()[Status.DONE] == 20
    finally:
        services.close()
