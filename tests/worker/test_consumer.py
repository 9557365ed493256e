"""The kombu worker on the in-memory transport: batching, acks, decode errors."""

from __future__ import annotations

import threading
import time

from kombu import Producer

from predictq.jobs import Job, Status
from predictq.messaging import connect, queue_for
from predictq.services import Services
from tests.conftest import drain
from worker.factory import create_worker


def submit(services: Services, texts):
    jobs = [Job(model="language", input={"text": t}) for t in texts]
    services.store.create(jobs)
    services.publisher.publish(jobs, "text")
    return jobs


def depth(settings) -> int:
    with connect(settings) as conn:
        _, n, _ = queue_for(settings, "text")(conn.channel()).queue_declare(passive=True)
        return n


def test_micro_batches_group_messages(services, settings, monkeypatch):
    jobs = submit(services, [f"Det här är mening nummer {i}." for i in range(40)])
    sizes: list[int] = []
    from models.loading import LoadedModel

    original = LoadedModel.predict

    def spy(self, inputs):
        sizes.append(len(inputs))
        return original(self, inputs)

    monkeypatch.setattr(LoadedModel, "predict", spy)
    assert drain(settings, 40, batch_size=16, batch_wait_ms=200) == 40
    assert max(sizes) == 16 and sum(sizes) == 40
    assert all(services.store.get(j.tracking_id).status is Status.DONE for j in jobs)
    assert depth(settings) == 0


def test_batch_size_one_predicts_one_by_one(services, settings, monkeypatch):
    submit(services, ["uno", "dos", "tres"])
    sizes: list[int] = []
    from models.loading import LoadedModel

    original = LoadedModel.predict
    monkeypatch.setattr(LoadedModel, "predict",
                        lambda self, inputs: (sizes.append(len(inputs)), original(self, inputs))[1])
    drain(settings, 3, batch_size=1)
    assert sizes == [1, 1, 1]


def test_nothing_is_acked_when_the_store_cannot_be_written(services, settings, monkeypatch):
    from predictq.errors import StoreUnavailable

    jobs = submit(services, ["hello world", "hallo Welt"])

    def broken(self, outcomes):
        raise StoreUnavailable("disk full")

    worker = create_worker(settings, batch_size=2, batch_wait_ms=50)
    monkeypatch.setattr(type(worker.processor.store), "finish", broken)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    time.sleep(1.0)
    worker.stop_event.set()
    thread.join(10)
    assert worker.processed == 0
    monkeypatch.undo()
    # The messages went back to the queue and a healthy worker finishes them.
    assert drain(settings, 2) == 2
    assert all(services.store.get(j.tracking_id).status is Status.DONE for j in jobs)


def test_a_store_outage_is_waited_out_holding_the_batch(services, settings, monkeypatch):
    # Requeueing on every failed try would count a broker delivery each time: on a
    # quorum queue the delivery limit would dead-letter jobs the store never failed.
    from kombu.message import Message

    from predictq.errors import StoreUnavailable

    jobs = submit(services, ["hello world", "hallo Welt"])
    store_type = type(services.store)
    original = store_type.finish
    failures = []

    def flaky(self, outcomes):
        if len(failures) < 3:
            failures.append(1)
            raise StoreUnavailable("primary stepping down")
        return original(self, outcomes)

    requeued = []
    monkeypatch.setattr(store_type, "finish", flaky)
    monkeypatch.setattr(Message, "requeue", lambda self: requeued.append(self))
    assert drain(settings, 2, timeout=20, batch_size=2, batch_wait_ms=50) == 2
    assert len(failures) == 3 and requeued == []
    assert all(services.store.get(j.tracking_id).status is Status.DONE for j in jobs)


def test_undecodable_messages_are_rejected_without_blocking_the_queue(services, settings):
    queue = queue_for(settings, "text")
    with connect(settings) as conn:
        Producer(conn.channel()).publish(
            b"\x80\x04K.", exchange=queue.exchange, routing_key="text",
            content_type="application/x-python-serialize", content_encoding="binary",
            declare=[queue])
    jobs = submit(services, ["Hyvää huomenta kaikille!"])
    assert drain(settings, 1) == 1
    assert services.store.get(jobs[0].tracking_id).status is Status.DONE
    assert depth(settings) == 0
    (dead,) = services.publisher.stats(["dead"])
    assert dead.depth == 1  # kept, as it came, for a person to look at
    with connect(settings) as conn:
        message = queue_for(settings, "dead")(conn.channel()).get(no_ack=True)
        assert message.body == b"\x80\x04K."
        assert message.headers["x-predictq-reason"].startswith("undecodable")



def test_a_message_nested_too_deeply_is_dead_lettered_not_a_crash(services, settings):
    # The JSON decoder's RecursionError is a decode error like any other (issue 13).
    queue = queue_for(settings, "text")
    deep = "[" * 100_000 + "]" * 100_000
    with connect(settings) as conn:
        Producer(conn.channel()).publish(
            f'{{"tracking_id": "x", "model": "language", "input": {deep}}}',
            exchange=queue.exchange, routing_key="text", content_type="application/json",
            content_encoding="utf-8", declare=[queue])
    jobs = submit(services, ["Hyvää huomenta kaikille!"])
    assert drain(settings, 1) == 1
    assert services.store.get(jobs[0].tracking_id).status is Status.DONE
    assert depth(settings) == 0
    (dead,) = services.publisher.stats(["dead"])
    assert dead.depth == 1


def test_graceful_stop_on_the_embedded_transport_loses_nothing(services, settings):
    embedded = settings.replace(broker_url="")
    submit(Services.build(embedded, store=services.store), [f"Zin {i}." for i in range(60)])
    # Stopped after 5: one by one, it has prefetched far more than it finished.
    processed = drain(embedded, 5, timeout=20, batch_size=1)
    assert 5 <= processed < 60
    assert depth(embedded) == 60 - processed  # the prefetched rest went back
    assert drain(embedded, 60 - processed) == 60 - processed
    assert services.store.count_by_status()[Status.DONE] == 60
