"""Queue types on the local RabbitMQ: quorum by default, classic on request, and the
quorum queue's delivery limit as a backstop above the store's attempt counter.

Each test has queues of its own (a unique prefix) that the fixture deletes afterwards.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time

import pytest
from kombu import Connection

from predictq import topology
from predictq.jobs import Job, Status
from predictq.messaging import Publisher
from tests.chaos_report import require_rabbitmqctl
from tests.conftest import drain
from tests.models.conftest import trained_sensor  # noqa: F401  (a session fixture)

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


def test_a_worker_that_cannot_serve_a_model_hands_its_messages_back_past_the_limit(
        amqp_settings, tmp_path, trained_sensor, monkeypatch):  # noqa: F811
    # The sensor queue carries two models. A worker with only `appliance` hands each
    # anomaly message back; had it requeued, the quorum queue would have counted every
    # hand-back and, past the delivery limit, dead-lettered the message while its job
    # stayed `queued` for good.
    from predictq.services import Services
    from worker import consumer
    from worker.factory import create_worker

    monkeypatch.setattr(consumer, "LEFT_PAUSE_S", 0.0)
    limit = topology.delivery_limit(amqp_settings)
    partial = tmp_path / "only-appliance"
    shutil.copytree(amqp_settings.resolved_model_dir / "appliance", partial / "appliance")
    services = Services.build(amqp_settings)
    try:
        job = Job(model="anomaly", input={"sensor_id": "s", "timestamp": 0.0,
                                          "sampling_period_ms": 10.0,
                                          "readings": [float(i % 9) for i in range(512)]})
        services.store.create([job])
        services.publisher.publish([job], "sensor")
        worker = create_worker(amqp_settings.replace(model_dir=partial), families=["sensor"],
                               sweep=False)
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while worker.left <= 2 * limit and time.monotonic() < deadline:
            time.sleep(0.05)
        worker.stop_event.set()
        thread.join(10)
        assert worker.left > 2 * limit, worker.left

        stored = services.store.get(job.tracking_id)
        assert stored.status is Status.QUEUED and stored.attempts == 0
        with Connection(amqp_settings.broker_url) as conn:
            _, dead, _ = topology.dead_letter_queue(amqp_settings)(conn.channel()).queue_declare(
                passive=True)
        assert dead == 0
        assert drain(amqp_settings, 1) == 1  # a worker with every model serves it
        assert services.store.get(job.tracking_id).status is Status.DONE
    finally:
        services.close()
