"""Delivering callbacks: retried with backoff through a receiver outage until a 2xx,
never lost, at least once with the tracking id, signed; refused targets abandoned."""

from __future__ import annotations

import socket
import time

import pytest

from loadtest.callback_receiver import Receiver
from predictq.callbacks import delivery
from predictq.jobs import Job, Outcome, Status
from predictq.settings import Settings
from predictq.store import open_store

SECRET = "test-secret-0123456789"


@pytest.fixture
def store(tmp_path):
    with open_store(f"sqlite:///{tmp_path / 'jobs.db'}") as store:
        yield store


def cb_settings(**kw) -> Settings:
    return Settings(callback_allow=kw.pop("allow", "127.0.0.1:*"), callback_secret=SECRET,
                    callback_concurrency=kw.pop("concurrency", 4), callback_timeout_s=2,
                    **kw)


def finished(store, url: str, n: int = 1) -> list[Job]:
    jobs = [Job(model="language", input={"text": f"t{i}"}, callback_url=url)
            for i in range(n)]
    store.create(jobs)
    store.finish([Outcome(j.tracking_id, Status.DONE, result={"label": "en"},
                          model_version="v1") for j in jobs])
    return jobs


def later(seconds: float = 1000) -> float:
    return time.time() + seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_receiver_answering_503_gets_it_again_until_it_answers_200(store):
    answers = {1: 503, 2: 503}
    with Receiver(SECRET, answer=lambda n: answers.get(n, 200)) as receiver:
        (job,) = finished(store, receiver.url)
        deliverer = delivery.deliverer(cb_settings(), store)
        assert deliverer.deliver_once() == 0
        state = store.callbacks.get(job.tracking_id)
        assert state.last_error == "HTTP 503" and state.due_at > time.time()  # backoff
        assert deliverer.deliver_once() == 0  # not due yet
        assert deliverer.deliver_once(now=later()) == 0
        assert deliverer.deliver_once(now=later()) == 1
        assert deliverer.deliver_once(now=later()) == 0  # settled
    got = receiver.arrivals
    assert [a.delivery for a in got] == [1, 2, 3]
    assert [a.retry_reason for a in got] == [None, "HTTP 503", "HTTP 503"]
    assert all(a.signature_ok and a.tracking_id == job.tracking_id for a in got)
    assert got[-1].body == store.get(job.tracking_id).to_public()
    assert store.callbacks.get(job.tracking_id).delivered_at is not None


def test_callbacks_survive_a_receiver_that_is_down_and_arrive_once_it_is_back(store):
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    jobs = finished(store, url, n=20)
    deliverer = delivery.deliverer(cb_settings(), store)
    assert deliverer.deliver_once() == 0  # nobody listens: connection refused
    states = [store.callbacks.get(j.tracking_id) for j in jobs]
    assert all("ConnectionRefusedError" in s.last_error for s in states)
    assert all(s.delivered_at is None and s.due_at is not None for s in states)
    with Receiver(SECRET, port=port) as receiver:
        assert deliverer.deliver_once(now=later()) == 20
    assert sorted(a.tracking_id for a in receiver.arrivals) == sorted(
        j.tracking_id for j in jobs)
    assert all(a.delivery == 2 and "ConnectionRefusedError" in a.retry_reason
               for a in receiver.arrivals)


def test_at_least_once_a_lost_record_sends_it_again_with_the_same_tracking_id(store):
    with Receiver(SECRET) as receiver:
        (job,) = finished(store, receiver.url)
        settings = cb_settings()
        deliverer = delivery.deliverer(settings, store)
        # The deliverer "dies" after the receiver took it and before recording that.
        deliverer.outbox.alert_delivered = lambda *a: None
        assert deliverer.deliver_once() == 1
        assert store.callbacks.get(job.tracking_id).delivered_at is None
        again = delivery.deliverer(settings, store)
        assert again.deliver_once() == 0  # still leased to the dead one
        assert again.deliver_once(now=later(delivery.lease_s(settings) + 1)) == 1
    first, second = receiver.arrivals
    assert first.tracking_id == second.tracking_id == job.tracking_id
    assert (first.delivery, second.delivery) == (1, 2)
    assert "lease" in second.retry_reason
    assert store.callbacks.get(job.tracking_id).delivered_at is not None


def test_a_target_refused_at_delivery_is_abandoned_with_its_reason(store):
    with Receiver(SECRET) as receiver:
        (job,) = finished(store, receiver.url)
        # Allowed when submitted; the operator now allows public hosts only.
        deliverer = delivery.deliverer(cb_settings(allow="*"), store)
        assert deliverer.deliver_once() == 0
        assert deliverer.deliver_once(now=later()) == 0
    assert receiver.arrivals == []
    state = store.callbacks.get(job.tracking_id)
    assert state.abandoned_at is not None and "non-public" in state.last_error
    assert state.attempts == 1


def test_many_callbacks_go_out_concurrently_each_once(store):
    with Receiver(SECRET) as receiver:
        jobs = finished(store, receiver.url, n=300)
        deliverer = delivery.deliverer(cb_settings(concurrency=8), store)
        deadline = time.monotonic() + 30
        while deliverer.delivered < 300 and time.monotonic() < deadline:
            deliverer.deliver_once()
    ids = [a.tracking_id for a in receiver.arrivals]
    assert len(ids) == len(set(ids)) == 300
    assert set(ids) == {j.tracking_id for j in jobs}
    assert all(a.signature_ok and a.delivery == 1 for a in receiver.arrivals)
