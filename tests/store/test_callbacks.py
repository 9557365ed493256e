"""`store.callbacks` on every backend (SQLite, mongomock, the MongoDB wire server): a
callback is stored with its job, owed once the job is final (never before), claimed
with a lease, and settled as delivered, failed (due again later) or abandoned."""

from __future__ import annotations

import threading
import time

import pytest

from predictq.jobs import Job, Outcome, Status

URL = "https://hooks.example.com/done"


def job(callback_url: str | None = URL, text: str = "hello") -> Job:
    return Job(model="language", input={"text": text}, callback_url=callback_url)


def done(*jobs: Job) -> list[Outcome]:
    return [Outcome(j.tracking_id, Status.DONE, result={"label": "en"}) for j in jobs]


def test_a_callback_is_owed_only_once_its_job_is_final(store):
    with_cb, without = job(), job(None)
    store.create([with_cb, without])
    state = store.callbacks.get(with_cb.tracking_id)
    assert state is not None and state.url == URL and state.attempts == 0
    assert state.due_at is None and state.delivered_at is None
    assert store.callbacks.get(without.tracking_id) is None
    assert store.callbacks.claim_due(time.time() + 3600, 60) == []  # queued: not owed
    store.mark_processing([with_cb.tracking_id])
    assert store.callbacks.claim_due(time.time() + 3600, 60) == []  # processing: neither
    # A job read back carries no callback_url: it is not part of the job's document.
    assert store.get(with_cb.tracking_id).callback_url is None
    store.finish(done(with_cb, without))
    assert store.callbacks.get(with_cb.tracking_id).due_at is not None
    now = time.time()
    (claimed,) = store.callbacks.claim_due(now, 60)
    assert claimed.tracking_id == with_cb.tracking_id and claimed.url == URL
    assert claimed.attempts == 1 and claimed.last_error is None
    assert claimed.job.status is Status.DONE and claimed.job.result == {"label": "en"}
    assert claimed.job.to_public() == store.get(with_cb.tracking_id).to_public()


def test_a_failed_job_owes_its_callback_too(store):
    j = job()
    store.create([j])
    store.finish([Outcome(j.tracking_id, Status.FAILED, error="gave up after 5 attempts")])
    (claimed,) = store.callbacks.claim_due(time.time(), 60)
    assert claimed.job.status is Status.FAILED
    assert claimed.job.error == "gave up after 5 attempts"


def test_the_lease_keeps_a_claimed_callback_from_other_deliverers(store):
    j = job()
    store.create([j])
    store.finish(done(j))
    now = time.time()
    assert len(store.callbacks.claim_due(now, 30)) == 1
    assert store.callbacks.claim_due(now + 29, 30) == []
    (again,) = store.callbacks.claim_due(now + 31, 30)  # the deliverer vanished
    assert again.attempts == 2


def test_failed_is_due_again_at_its_retry_time_with_the_reason(store):
    j = job()
    store.create([j])
    store.finish(done(j))
    now = time.time()
    store.callbacks.claim_due(now, 60)
    store.callbacks.failed(j.tracking_id, "HTTP 503", now + 4)
    assert store.callbacks.claim_due(now + 3, 60) == []
    (retry,) = store.callbacks.claim_due(now + 4.01, 60)
    assert retry.attempts == 2 and retry.last_error == "HTTP 503"
    assert store.callbacks.get(j.tracking_id).last_error == "HTTP 503"


def test_delivered_and_abandoned_are_never_due_again(store):
    a, b = job(text="a"), job(text="b")
    store.create([a, b])
    store.finish(done(a, b))
    now = time.time()
    assert {c.tracking_id for c in store.callbacks.claim_due(now, 0)} == {
        a.tracking_id, b.tracking_id}
    store.callbacks.delivered(a.tracking_id, now + 1)
    store.callbacks.abandoned(b.tracking_id, "refused: 10.0.0.1 is private", now + 1)
    store.callbacks.failed(a.tracking_id, "late answer", now)  # a stale attempt's record
    assert store.callbacks.claim_due(now + 10_000, 60) == []
    sa, sb = store.callbacks.get(a.tracking_id), store.callbacks.get(b.tracking_id)
    assert sa.delivered_at == pytest.approx(now + 1) and sa.due_at is None
    assert sb.abandoned_at == pytest.approx(now + 1)
    assert sb.last_error == "refused: 10.0.0.1 is private"
    # A job finished again (a redelivered message) does not owe its callback again.
    store.finish(done(a))
    assert store.callbacks.claim_due(now + 10_000, 60) == []


@pytest.fixture
def atomic_store(store, store_url):
    """`store`, but not mongomock: its find-and-modify is not atomic between threads."""
    if store_url.startswith("mongomock"):
        pytest.skip("mongomock's find_one_and_update is not atomic between threads")
    return store


def test_claims_are_bounded_and_concurrent_claimers_share_nothing(atomic_store):
    store = atomic_store
    jobs = [job(text=str(i)) for i in range(30)]
    store.create(jobs)
    store.finish(done(*jobs))
    assert len(store.callbacks.claim_due(time.time(), 60, limit=4)) == 4
    claimed: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4)

    def claim():
        barrier.wait()
        got = store.callbacks.claim_due(time.time(), 60, limit=10)
        with lock:
            claimed.extend(c.tracking_id for c in got)

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == len(set(claimed)) == 26


def test_a_repeated_idempotent_submission_stores_one_callback(store):
    first = job()
    store.create([first], "key-1", "hash")
    stored, created = store.create([job()], "key-1", "hash")
    assert not created and stored[0].tracking_id == first.tracking_id
    store.finish(done(first))
    assert len(store.callbacks.claim_due(time.time(), 60)) == 1


def test_a_callback_goes_with_its_job_when_retention_deletes_it(store):
    old, kept = job(text="old"), job(text="kept")
    store.create([old, kept])
    store.finish(done(old))
    now = time.time()
    store.callbacks.claim_due(now, 0)
    store.callbacks.delivered(old.tracking_id, now)
    assert store.expire_finished(now + 1) == 1
    assert store.callbacks.get(old.tracking_id) is None
    assert store.callbacks.get(kept.tracking_id).url == URL  # not final: kept
