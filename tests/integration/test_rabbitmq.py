"""The same path on the local RabbitMQ: confirms, durable queues, competing consumers.

Each test has queues of its own (a unique prefix) that the fixture deletes afterwards.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from kombu import Connection

from api.app import create_app
from predictq.jobs import Job, Status
from predictq.messaging import Publisher, queue_for
from predictq.services import Services
from tests.conftest import drain
from worker.factory import create_worker

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
def amqp_services(amqp_settings):
    services = Services.build(amqp_settings)
    yield services
    services.close()


def test_submit_over_http_and_poll_to_done(amqp_services, amqp_settings):
    client = create_app(services=amqp_services).test_client()
    sentences = {"sv": "Vi ses i morgon vid stationen klockan åtta.",
                 "de": "Wir treffen uns morgen um acht Uhr am Bahnhof.",
                 "ru": "Мы встретимся завтра в восемь часов на вокзале."}
    ids = {}
    for lang, text in sentences.items():
        r = client.post("/v1/predictions", data=json.dumps(
            {"model": "language", "input": {"text": text}}), content_type="application/json")
        assert r.status_code == 202
        ids[lang] = r.get_json()["tracking_id"]
    queues = {q["family"]: q for q in client.get("/v1/queue").get_json()["queues"]}
    assert queues["text"]["depth"] == 3
    assert drain(amqp_settings, 3) == 3
    for lang, tid in ids.items():
        job = client.get(f"/v1/predictions/{tid}").get_json()
        assert job["status"] == "done" and job["result"]["label"] == lang


def test_queue_is_durable_and_messages_persistent(amqp_services, amqp_settings):
    job = Job(model="language", input={"text": "persist me"})
    amqp_services.store.create([job])
    amqp_services.publisher.publish([job], "text")
    with Connection(amqp_settings.broker_url) as conn:
        channel = conn.channel()
        queue = queue_for(amqp_settings, "text")(channel)
        # Redeclaring as non-durable must fail if the broker holds it as durable.
        from kombu import Queue
        with pytest.raises(conn.channel_errors):
            Queue(queue.name, queue.exchange, routing_key="text", durable=False)(
                channel).declare()
    with Connection(amqp_settings.broker_url) as conn:
        message = queue_for(amqp_settings, "text")(conn.channel()).get(no_ack=False)
        assert message.delivery_info["routing_key"] == "text"
        assert message.properties["delivery_mode"] == 2
        assert message.content_type == "application/json"
        assert json.loads(message.body)["tracking_id"] == job.tracking_id
        message.requeue()


def test_two_workers_share_one_queue(amqp_services, amqp_settings):
    workers = [create_worker(amqp_settings, batch_size=1) for _ in range(2)]
    threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
    for t in threads:
        t.start()
    publisher = Publisher(amqp_settings)
    deadline = time.monotonic() + 10
    while publisher.stats(["text"])[0].consumers < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert publisher.stats(["text"])[0].consumers == 2
    jobs = [Job(model="language", input={"text": f"Numero {i}, per favore."}) for i in range(200)]
    amqp_services.store.create(jobs)
    publisher.publish(jobs, "text")
    deadline = time.monotonic() + 30
    while sum(w.processed for w in workers) < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    for w in workers:
        w.stop_event.set()
    for t in threads:
        t.join(10)
    publisher.close()
    assert sum(w.processed for w in workers) == 200
    assert all(w.processed > 20 for w in workers), [w.processed for w in workers]
    counts = amqp_services.store.count_by_status()
    assert counts[Status.DONE] == 200


def test_publisher_confirms_a_large_batch_without_polling_between_publishes(amqp_settings):
    # The publisher's connection declines connection.blocked notices, so py-amqp reads
    # nothing between publishes: every confirm must still be collected by the wait.
    publisher = Publisher(amqp_settings)
    jobs = [Job(model="language", input={"text": f"Numero {i}, per favore."})
            for i in range(3000)]
    publisher.publish(jobs, "text")
    capabilities = publisher._connection.connection.client_properties["capabilities"]
    assert capabilities["connection.blocked"] is False
    assert publisher.stats(["text"])[0].depth == 3000
    publisher.close()


def test_an_idle_publisher_keeps_its_connection(amqp_settings, monkeypatch):
    """Between submissions nothing else uses the API's connection: without heartbeats
    RabbitMQ dropped it after two intervals and the next publish paid a failed attempt
    and a reconnect."""
    from predictq import connection

    monkeypatch.setattr(connection, "HEARTBEAT_S", 2)  # dropped after ~4-6 s idle
    publisher = Publisher(amqp_settings)
    try:
        publisher.publish([Job(model="language", input={"text": "Hej, hur mår du?"})], "text")
        time.sleep(10)  # idle for about twice the drop time
        publisher.publish([Job(model="language", input={"text": "Hyvää huomenta!"})], "text")
        assert publisher.connects == 1, "the broker dropped the idle connection"
        assert publisher.stats(["text"])[0].depth == 2
    finally:
        publisher.close()


def test_unreachable_broker_makes_publish_fail_loudly(amqp_settings):
    from predictq.errors import BrokerUnavailable

    publisher = Publisher(amqp_settings.replace(broker_url="amqp://guest:guest@127.0.0.1:1//"))
    with pytest.raises(BrokerUnavailable):
        publisher.publish([Job(model="language", input={"text": "x"})], "text")


def test_a_micro_batch_is_acked_whole_and_only_once_done(amqp_services, amqp_settings):
    # One `multiple` ack per batch: once the worker's connection is gone, anything it had
    # not acked would be back in the queue, and anything acked early would be lost.
    jobs = [Job(model="language", input={"text": f"Número {i}, por favor."}) for i in range(100)]
    amqp_services.store.create(jobs)
    amqp_services.publisher.publish(jobs, "text")
    assert drain(amqp_settings, 100, batch_size=16, batch_wait_ms=20) == 100
    assert amqp_services.store.count_by_status()[Status.DONE] == 100
    (stats,) = amqp_services.publisher.stats(["text"])
    assert (stats.depth, stats.consumers) == (0, 0)
