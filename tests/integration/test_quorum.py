"""Queue types on the local RabbitMQ: quorum by default, classic on request, and the
quorum queue's delivery limit as a backstop above the store's attempt counter.

Each test has queues of its own (a unique prefix) that the fixture deletes afterwards.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from kombu import Connection

from predictq import topology
from predictq.jobs import Job, Status
from predictq.messaging import Publisher
from tests.chaos_report import require_rabbitmqctl
from tests.conftest import drain

pytestmark = pytest.mark.rabbitmq


def queue_types(prefix: str) -> dict[str, str]:
    """{queue name: type} of the queues named `<prefix>.*`, as the broker reports them."""
    out = subprocess.run(["rabbitmqctl", "list_queues", "-q", "--no-table-headers",
                          "name", "type"],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    rows = (line.split("\t") for line in out.splitlines())
    return {row[0]: row[1] for row in rows if len(row) == 2 and row[0].startswith(prefix)}


def declare_everything(settings) -> None:
    with Connection(settings.broker_url) as conn:
        channel = conn.channel()
        for queue in topology.all_queues(settings):
            queue(channel).declare()


def test_every_queue_is_a_quorum_queue_by_default_and_jobs_flow(amqp_settings):
    require_rabbitmqctl()
    assert amqp_settings.queue_type == "quorum"
    services_publisher = Publisher(amqp_settings)
    from predictq.services import Services

    services = Services.build(amqp_settings)
    try:
        jobs = [Job(model="language", input={"text": f"Guten Morgen, Nummer {i}."})
                for i in range(50)]
        services.store.create(jobs)
        services.publisher.publish(jobs, "text")
        assert drain(amqp_settings, 50, batch_size=8) == 50
        assert services.store.count_by_status()[Status.DONE] == 50
        declare_everything(amqp_settings)
        types = queue_types(amqp_settings.queue_prefix)
        names = {q.name for q in topology.all_queues(amqp_settings)}
        assert set(types) == names
        assert set(types.values()) == {"quorum"}, types
    finally:
        services.close()
        services_publisher.close()


def test_classic_on_request(amqp_settings):
    require_rabbitmqctl()
    classic = amqp_settings.replace(queue_type="classic")
    declare_everything(classic)
    types = queue_types(classic.queue_prefix)
    assert len(types) == len(topology.all_queues(classic))
    assert set(types.values()) == {"classic"}, types


def test_the_delivery_limit_dead_letters_a_message_redelivered_past_it(amqp_settings):
    # The backstop for a message the store's counter never sees (a consumer that
    # requeues it forever): past the limit the broker moves it to the dead letters.
    settings = amqp_settings.replace(max_attempts=1)
    limit = topology.delivery_limit(settings)
    assert limit > settings.max_attempts
    text, dead = topology.queue_for(settings, "text"), topology.dead_letter_queue(settings)
    body = {"tracking_id": "loops-forever", "model": "language", "input": {"text": "x"}}
    with Connection(settings.broker_url) as conn:
        channel = conn.channel()
        dead(channel).declare()
        producer = conn.Producer(channel)
        producer.publish(body, exchange=text.exchange, routing_key="text",
                         serializer="json", declare=[text])
        deliveries, letter = 0, None
        deadline = time.monotonic() + 30
        while letter is None and time.monotonic() < deadline:
            # A quorum queue settles a publish or a requeue asynchronously: poll.
            message = text(channel).get(no_ack=False)
            if message is not None:
                message.requeue()
                deliveries += 1
                assert deliveries <= limit + 1, "the broker never gave up on it"
            else:
                letter = dead(channel).get(no_ack=True)
                time.sleep(0.02)
        assert deliveries == limit + 1  # the first delivery and `limit` more
        assert letter is not None and json.loads(letter.body) == body
        assert letter.headers["x-first-death-reason"] == "delivery_limit"
        assert letter.headers["x-first-death-queue"] == text.name
