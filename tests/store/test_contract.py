"""What every store backend promises (predictq/store/base.py), run once per backend."""

from __future__ import annotations

import threading
import time

import pytest

from predictq.errors import IdempotencyConflict
from predictq.jobs import Job, Outcome, Status
from predictq.settings import Settings
from predictq.store import Store, open_store
from predictq.store.mongo import MongoStore
from predictq.store.sqlite import SqliteStore

T0 = 1_700_000_000.0


def job(model: str = "language", created_at: float = T0, **input: object) -> Job:
    return Job(model=model, input=input or {"text": "bonjour"}, created_at=created_at)


def done(tracking_id: str, label: str = "fr") -> Outcome:
    return Outcome(tracking_id, Status.DONE, result={"label": label}, model_version="v1")


def failed(tracking_id: str, error: str = "boom") -> Outcome:
    return Outcome(tracking_id, Status.FAILED, error=error)


def total(store: Store) -> int:
    return sum(store.count_by_status().values())


def ids(jobs: list[Job]) -> list[str]:
    return [j.tracking_id for j in jobs]


@pytest.fixture
def atomic_store(store: Store, store_url: str) -> Store:
    """`store`, but not mongomock: its find-and-modify finds the document, then updates
    it by `_id` alone, so unlike the server it is not atomic between threads."""
    if store_url.startswith("mongomock"):
        pytest.skip("mongomock's find_one_and_update is not atomic between threads")
    return store


# -- create / get ----------------------------------------------------------------------


def test_create_then_get_returns_the_same_job(store: Store) -> None:
    original = Job(model="language", input={"text": "héllo wörld", "n": [1, 2.5, None]},
                   created_at=T0 + 0.123456, attempts=2)
    assert store.create([original]) == ([original], True)
    assert store.get(original.tracking_id) == original


def test_get_unknown_id_is_none(store: Store) -> None:
    store.create([job()])
    assert store.get("no-such-id") is None


def test_get_many_keeps_argument_order_and_skips_unknown(store: Store) -> None:
    a, b, c = job(), job(), job()
    store.create([a, b, c])
    assert store.get_many([c.tracking_id, "nope", a.tracking_id]) == [c, a]
    assert store.get_many([]) == []


def test_create_stores_a_batch_in_order(store: Store) -> None:
    batch = [job(text=f"t{i}") for i in range(5)]
    stored, created = store.create(batch)
    assert created is True
    assert stored == batch
    assert store.get_many(ids(batch)) == batch
    assert total(store) == 5


def test_the_largest_batch_the_api_accepts_round_trips(store: Store) -> None:
    # 1,000 inputs of 20,000 characters (the defaults), 3 bytes each in UTF-8: 60 MB,
    # more than one MongoDB message (48 MB) or reply batch (16 MB) can carry.
    settings = Settings()
    text = "日本語のテキスト" * (settings.max_text_chars // 8)
    jobs = [job(text=text) for _ in range(settings.max_batch_inputs)]
    assert len(text) == settings.max_text_chars
    stored, created = store.create(jobs, "big", "h")
    assert created is True and ids(stored) == ids(jobs)
    assert store.get_many(ids(jobs)) == jobs


def test_create_is_all_or_nothing_when_an_id_exists(store: Store) -> None:
    existing = job(text="first")
    store.create([existing])
    clash = Job(model="language", input={"text": "other"}, tracking_id=existing.tracking_id)
    batch = [job(text="a"), job(text="b"), clash, job(text="c")]
    with pytest.raises(ValueError):
        store.create(batch)
    assert total(store) == 1
    assert store.get(existing.tracking_id) == existing
    assert store.get_many(ids(batch)) == [existing]


def test_create_is_all_or_nothing_when_a_batch_repeats_an_id(store: Store) -> None:
    a = job()
    with pytest.raises(ValueError):
        store.create([a, job(), a])
    assert total(store) == 0


# -- status transitions -----------------------------------------------------------------


def test_mark_published_hides_jobs_from_the_sweeper(store: Store) -> None:
    a, b = job(), job()
    store.create([a, b])
    store.mark_published([a.tracking_id, "unknown"])
    assert store.get(a.tracking_id).published is True
    assert store.get(b.tracking_id).published is False
    assert ids(store.unpublished(older_than=T0 + 1)) == [b.tracking_id]


def test_mark_processing_marks_published_too(store: Store) -> None:
    # A worker holds the message: the job was published even if its mark was lost.
    a = job()
    store.create([a])
    store.mark_processing([a.tracking_id])
    assert store.get(a.tracking_id).published is True


def test_mark_processing_counts_attempts_of_jobs_not_final(store: Store) -> None:
    a, b = job(), job()
    store.create([a, b])
    assert store.get(a.tracking_id).attempts == 0

    assert store.mark_processing([a.tracking_id]) == {a.tracking_id: 1}
    now = store.get(a.tracking_id)
    assert (now.status, now.attempts) == (Status.PROCESSING, 1)
    assert now.updated_at > T0
    assert store.get(b.tracking_id) == b

    # A processing job delivered again (its worker died) counts again.
    assert store.mark_processing([b.tracking_id, a.tracking_id]) == {
        a.tracking_id: 2, b.tracking_id: 1}
    assert [j.attempts for j in store.get_many(ids([a, b]))] == [2, 1]
    assert "attempts" not in store.get(a.tracking_id).to_public()


def test_mark_processing_leaves_final_and_unknown_jobs_out(store: Store) -> None:
    queued, finished, broken = job(), job(), job()
    store.create([queued, finished, broken])
    store.finish([done(finished.tracking_id), failed(broken.tracking_id)])
    before = store.get_many([finished.tracking_id, broken.tracking_id])

    answer = store.mark_processing(
        [queued.tracking_id, finished.tracking_id, broken.tracking_id, "x"])

    assert answer == {queued.tracking_id: 1}
    assert store.get(queued.tracking_id).status is Status.PROCESSING
    assert store.get_many([finished.tracking_id, broken.tracking_id]) == before
    assert store.get("x") is None
    assert store.mark_processing([]) == {}


def test_mark_processing_counts_an_id_listed_twice_once(store: Store) -> None:
    a = job()
    store.create([a])
    assert store.mark_processing([a.tracking_id, a.tracking_id]) == {a.tracking_id: 1}
    assert store.get(a.tracking_id).attempts == 1


def test_concurrent_mark_processing_never_loses_a_count(atomic_store: Store) -> None:
    store = atomic_store
    n = 6
    jobs = [job() for _ in range(5)]
    store.create(jobs)
    barrier = threading.Barrier(n)
    answers: list[dict[str, int]] = []

    def mark() -> None:
        barrier.wait(timeout=10)
        for tid in ids(jobs):  # one call per job, so the calls interleave
            answers.append(store.mark_processing([tid]))

    threads = [threading.Thread(target=mark) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert [j.attempts for j in store.get_many(ids(jobs))] == [n] * len(jobs)
    # Each call saw its own count: together they saw 1..n, none twice.
    for tid in ids(jobs):
        assert sorted(a[tid] for a in answers if tid in a) == list(range(1, n + 1))


def test_finish_writes_results_and_errors(store: Store) -> None:
    a, b = job(), job()
    store.create([a, b])
    started = time.time()
    changed = store.finish([done(a.tracking_id, "de"), failed(b.tracking_id, "bad input")])
    assert changed == [a.tracking_id, b.tracking_id]

    got_a, got_b = store.get_many([a.tracking_id, b.tracking_id])
    assert (got_a.status, got_a.result, got_a.model_version, got_a.error) == (
        Status.DONE, {"label": "de"}, "v1", None)
    assert (got_b.status, got_b.result, got_b.error) == (Status.FAILED, None, "bad input")
    assert got_a.updated_at >= started and got_b.updated_at >= started
    assert got_a.created_at == T0


def test_finish_moves_processing_jobs_too(store: Store) -> None:
    a = job()
    store.create([a])
    store.mark_processing([a.tracking_id])
    assert store.finish([done(a.tracking_id)]) == [a.tracking_id]
    assert store.get(a.tracking_id).status is Status.DONE


def test_finish_never_overwrites_a_final_record(store: Store) -> None:
    a, b = job(), job()
    store.create([a, b])
    store.finish([done(a.tracking_id, "fr"), failed(b.tracking_id, "first")])
    first = store.get_many([a.tracking_id, b.tracking_id])

    again = store.finish([failed(a.tracking_id), done(b.tracking_id), done(a.tracking_id, "en")])
    assert again == []
    assert store.get_many([a.tracking_id, b.tracking_id]) == first


def test_finish_returns_only_the_ids_it_changed(store: Store) -> None:
    old, new = job(), job()
    store.create([old, new])
    store.finish([done(old.tracking_id)])
    changed = store.finish([done(old.tracking_id), done("unknown"), done(new.tracking_id)])
    assert changed == [new.tracking_id]


def test_finish_with_one_id_twice_keeps_the_first(store: Store) -> None:
    a = job()
    store.create([a])
    assert store.finish([done(a.tracking_id, "it"), failed(a.tracking_id)]) == [a.tracking_id]
    assert store.get(a.tracking_id).result == {"label": "it"}


def test_finish_refuses_a_status_that_is_not_final(store: Store) -> None:
    a = job()
    store.create([a])
    with pytest.raises(ValueError):
        store.finish([done(a.tracking_id), Outcome(a.tracking_id, Status.PROCESSING)])
    assert store.get(a.tracking_id).status is Status.QUEUED
    assert store.finish([]) == []


# -- queries -----------------------------------------------------------------------------


def test_list_recent_is_newest_first_limited_and_filtered(store: Store) -> None:
    jobs = [job(model="language" if i % 2 else "appliance", created_at=T0 + i) for i in range(6)]
    store.create(jobs[3:])
    store.create(jobs[:3])
    assert ids(store.list_recent()) == ids(jobs[::-1])
    assert ids(store.list_recent(limit=2)) == [jobs[5].tracking_id, jobs[4].tracking_id]
    assert ids(store.list_recent(model="language")) == ids([jobs[5], jobs[3], jobs[1]])


def test_count_by_status_lists_every_status(store: Store) -> None:
    assert store.count_by_status() == dict.fromkeys(Status, 0)
    a, b, c, d = job(), job(), job(), job(model="appliance")
    store.create([a, b, c, d])
    store.mark_processing([b.tracking_id])
    store.finish([done(c.tracking_id), failed(d.tracking_id)])
    assert store.count_by_status() == {
        Status.QUEUED: 1, Status.PROCESSING: 1, Status.DONE: 1, Status.FAILED: 1}
    assert store.count_by_status(model="appliance") == {
        Status.QUEUED: 0, Status.PROCESSING: 0, Status.DONE: 0, Status.FAILED: 1}


def test_oldest_created_at_per_status_and_model(store: Store) -> None:
    assert store.oldest_created_at(Status.QUEUED) is None
    store.create([job(created_at=T0 + 5), job(created_at=T0 + 2, model="appliance"),
                  job(created_at=T0 + 9)])
    assert store.oldest_created_at(Status.QUEUED) == T0 + 2
    assert store.oldest_created_at(Status.QUEUED, model="language") == T0 + 5
    assert store.oldest_created_at(Status.PROCESSING) is None


def test_count_created_since(store: Store) -> None:
    store.create([job(created_at=T0 + i, model="appliance" if i == 4 else "language")
                  for i in range(5)])
    assert store.count_created_since(T0 + 2) == 3  # the bound itself counts
    assert store.count_created_since(T0 + 2, model="language") == 2
    assert store.count_created_since(T0 + 10) == 0


def test_count_finished_since(store: Store) -> None:
    early, late, late_other, busy, waiting = (
        job(), job(), job(model="appliance"), job(), job())
    store.create([early, late, late_other, busy, waiting])
    store.finish([done(early.tracking_id)])
    time.sleep(0.01)
    since = time.time()
    store.finish([done(late.tracking_id), failed(late_other.tracking_id)])
    store.mark_processing([busy.tracking_id])
    assert store.count_finished_since(since) == 2
    assert store.count_finished_since(since, model="language") == 1
    assert store.count_finished_since(since - 3600) == 3


def test_finished_since_is_the_change_feed_of_final_jobs_in_commit_order(store: Store) -> None:
    early, first, second, busy = job(), job(), job(model="appliance"), job()
    store.create([early, first, second, busy])
    store.finish([done(early.tracking_id)])
    time.sleep(0.01)
    since = time.time()
    store.finish([done(first.tracking_id)])
    store.finish([failed(second.tracking_id)])
    store.mark_processing([busy.tracking_id])
    feed = store.finished_since(since)
    assert [tid for tid, _ in feed] == [first.tracking_id, second.tracking_id]
    assert feed[0][1] <= feed[1][1] and feed[0][1] >= since
    assert [tid for tid, _ in store.finished_since(since, limit=1)] == [first.tracking_id]
    assert len(store.finished_since(since - 3600)) == 3
    assert store.finished_since(time.time() + 1) == []


def test_unpublished_is_oldest_first_bounded_and_queued_only(store: Store) -> None:
    jobs = [job(created_at=T0 + i) for i in range(6)]
    store.create(jobs[::-1])
    store.mark_published([jobs[0].tracking_id])
    store.mark_processing([jobs[1].tracking_id])
    store.finish([done(jobs[2].tracking_id)])
    assert ids(store.unpublished(older_than=T0 + 4)) == ids(jobs[3:5])
    assert ids(store.unpublished(older_than=T0 + 100, limit=2)) == ids(jobs[3:5])
    assert store.unpublished(older_than=T0 + 2.5) == []


# -- sweep -------------------------------------------------------------------------------


def _pause() -> float:
    """A moment strictly between the writes before and after it."""
    time.sleep(0.01)
    moment = time.time()
    time.sleep(0.01)
    return moment


def test_sweep_claims_only_stale_unpublished_and_stale_processing_jobs(store: Store) -> None:
    unpublished, published, processing, finished, broken = (job() for _ in range(5))
    store.create([unpublished, published, processing, finished, broken])
    store.mark_published([published.tracking_id])
    store.mark_processing([processing.tracking_id])
    store.finish([done(finished.tracking_id), failed(broken.tracking_id)])
    cut = _pause()
    fresh_unpublished, fresh_processing = job(created_at=time.time()), job()
    store.create([fresh_unpublished, fresh_processing])
    store.mark_processing([fresh_processing.tracking_id])
    untouched = [published, finished, broken, fresh_unpublished, fresh_processing]
    before = store.get_many(ids(untouched))

    claimed = store.sweep(stale_before=cut)

    # Oldest lease first: the unpublished job's is from T0, the processing one's later.
    assert ids(claimed) == [unpublished.tracking_id, processing.tracking_id]
    assert store.get_many(ids(untouched)) == before


def test_sweep_returns_claimed_jobs_queued_unpublished_with_a_new_lease(
    store: Store,
) -> None:
    unpublished, processing = job(), job()
    store.create([unpublished, processing])
    store.mark_published([processing.tracking_id])
    store.mark_processing([processing.tracking_id])
    started = _pause()

    claimed = store.sweep(stale_before=started)

    assert ids(claimed) == [unpublished.tracking_id, processing.tracking_id]
    for got in claimed:
        assert (got.status, got.published) == (Status.QUEUED, False)
        assert started < got.updated_at <= time.time()
        assert got.created_at == T0
    assert [j.attempts for j in claimed] == [0, 1]  # kept: the bound spans redeliveries
    assert store.get_many(ids(claimed)) == claimed  # returned as stored

    # Requeued, the job goes through the usual path again.
    assert store.mark_processing([processing.tracking_id]) == {processing.tracking_id: 2}


def test_a_claimed_job_is_not_claimed_again_until_its_lease_is_stale(store: Store) -> None:
    a, b = job(), job()
    store.create([a, b])
    cut = _pause()

    assert ids(store.sweep(stale_before=cut)) == ids([a, b])
    assert store.sweep(stale_before=cut) == []

    later = _pause()
    assert sorted(ids(store.sweep(stale_before=later))) == sorted(ids([a, b]))


def test_sweep_is_oldest_first_and_bounded(store: Store) -> None:
    jobs = [job(created_at=T0 + i) for i in range(6)]
    store.create(jobs[::-1])
    assert ids(store.sweep(stale_before=T0 + 4, limit=3)) == ids(jobs[:3])
    # The bound counts as stale; T0 + 5 does not.
    assert ids(store.sweep(stale_before=T0 + 4, limit=10)) == ids(jobs[3:5])
    assert store.sweep(stale_before=T0 + 4) == []
    assert store.sweep(stale_before=T0 + 100, limit=0) == []  # not "no limit"
    assert store.sweep(stale_before=T0 + 100, limit=-1) == []
    assert ids(store.sweep(stale_before=T0 + 100)) == [jobs[5].tracking_id]


def test_sweep_of_an_empty_store_claims_nothing(store: Store) -> None:
    assert store.sweep(stale_before=time.time()) == []


def test_republish_unfinished_requeues_every_unfinished_job_for_the_sweeper(
    store: Store,
) -> None:
    # After queues are rebuilt without their messages (predictq queues migrate), every
    # job not final must reach the new queues through the sweeper.
    queued, published, processing, finished, broken = (job() for _ in range(5))
    store.create([queued, published, processing, finished, broken])
    store.mark_published([published.tracking_id, processing.tracking_id])
    store.mark_processing([processing.tracking_id])
    store.finish([done(finished.tracking_id), failed(broken.tracking_id)])
    finals = store.get_many(ids([finished, broken]))
    unfinished = [queued, published, processing]
    before = {j.tracking_id: j for j in store.get_many(ids(unfinished))}

    assert store.republish_unfinished() == 3

    for got in store.get_many(ids(unfinished)):
        assert (got.status, got.published) == (Status.QUEUED, False)
        kept = before[got.tracking_id]
        assert (got.attempts, got.updated_at) == (kept.attempts, kept.updated_at)
    assert store.get_many(ids([finished, broken])) == finals
    cut = _pause()
    assert sorted(ids(store.sweep(stale_before=cut))) == sorted(ids(unfinished))
    assert store.republish_unfinished() == 3  # still unfinished: counted again


def test_concurrent_sweepers_never_claim_one_job_twice(atomic_store: Store) -> None:
    store = atomic_store
    jobs = [job(created_at=T0 + i) for i in range(40)]
    store.create(jobs)
    cut = _pause()
    n = 4
    barrier = threading.Barrier(n)
    claimed: list[list[str]] = [[] for _ in range(n)]

    def sweep(mine: list[str]) -> None:
        barrier.wait(timeout=10)
        while batch := store.sweep(stale_before=cut, limit=3):
            mine.extend(ids(batch))

    threads = [threading.Thread(target=sweep, args=(mine,)) for mine in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    everything = [tid for mine in claimed for tid in mine]
    assert sorted(everything) == sorted(ids(jobs))  # each job exactly once


# -- idempotency -------------------------------------------------------------------------


def test_same_key_and_body_returns_the_first_jobs_and_stores_nothing(store: Store) -> None:
    first = [job(text="a"), job(text="b")]
    assert store.create(first, "key-1", "hash-1") == (first, True)

    retry = [job(text="a"), job(text="b")]
    stored, created = store.create(retry, "key-1", "hash-1")
    assert created is False
    assert stored == first
    assert total(store) == 2
    assert store.get_many(ids(retry)) == []


def test_same_key_with_another_body_conflicts(store: Store) -> None:
    store.create([job()], "key-1", "hash-1")
    with pytest.raises(IdempotencyConflict, match="key-1"):
        store.create([job()], "key-1", "hash-2")
    assert total(store) == 1


def test_other_keys_and_no_key_always_create(store: Store) -> None:
    store.create([job()], "key-1", "same-hash")
    assert store.create([job()], "key-2", "same-hash")[1] is True
    assert store.create([job()])[1] is True
    assert store.create([job()])[1] is True
    assert total(store) == 4


def test_concurrent_requests_with_one_key_store_one_set(store: Store) -> None:
    n = 8
    barrier = threading.Barrier(n)
    answers: list[tuple[list[Job], bool]] = []

    def submit() -> None:
        barrier.wait(timeout=10)
        answers.append(store.create([job(text="x"), job(text="y")], "shared", "h"))

    threads = [threading.Thread(target=submit) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert len(answers) == n
    assert len({tuple(ids(stored)) for stored, _ in answers}) == 1
    assert any(created for _, created in answers)
    assert total(store) == 2


# -- concurrency and lifecycle -----------------------------------------------------------


# -- retention ---------------------------------------------------------------------------


def test_expire_finished_deletes_old_finished_jobs_only(store: Store) -> None:
    old_done, old_failed, old_queued, old_processing = (job(created_at=T0) for _ in range(4))
    store.create([old_done, old_failed, old_queued, old_processing])
    store.mark_processing([old_processing.tracking_id])
    store.finish([done(old_done.tracking_id), failed(old_failed.tracking_id)])
    time.sleep(0.02)
    cutoff = time.time()
    time.sleep(0.02)
    recent = job()
    store.create([recent])
    store.finish([done(recent.tracking_id)])

    assert store.expire_finished(cutoff) == 2
    assert store.get(old_done.tracking_id) is None and store.get(old_failed.tracking_id) is None
    # Queued and processing jobs never expire, however old; newer finished ones stay.
    assert store.get(old_queued.tracking_id).status is Status.QUEUED
    assert store.get(old_processing.tracking_id).status is Status.PROCESSING
    assert store.get(recent.tracking_id).status is Status.DONE
    assert store.expire_finished(cutoff) == 0
    assert store.expire_finished(time.time() + 60) == 1  # `recent`
    assert total(store) == 2


def test_expire_finished_is_bounded_and_oldest_first(store: Store) -> None:
    jobs = [job() for _ in range(5)]
    store.create(jobs)
    for j in jobs:  # finished one after the other
        store.finish([done(j.tracking_id)])
        time.sleep(0.005)
    assert store.expire_finished(time.time() + 60, limit=2) == 2
    assert [store.get(j.tracking_id) is None for j in jobs] == [True, True, False, False, False]
    assert store.expire_finished(time.time() + 60, limit=10) == 3


def test_an_expired_idempotency_key_creates_new_jobs(store: Store) -> None:
    first = [job(text="a")]
    store.create(first, "old-key", "hash-1")
    time.sleep(0.02)
    cutoff = time.time()
    time.sleep(0.02)
    store.create([job(text="b")], "new-key", "hash-2")

    assert store.expire_idempotency_keys(cutoff) == 1
    again = [job(text="a")]
    assert store.create(again, "old-key", "hash-1") == (again, True)  # a new job
    assert store.get(first[0].tracking_id) is not None  # the key went, not its jobs
    # A key younger than the cutoff still answers with its jobs, and still conflicts.
    assert store.create([job(text="b")], "new-key", "hash-2")[1] is False
    with pytest.raises(IdempotencyConflict):
        store.create([job()], "new-key", "other")
    assert store.expire_idempotency_keys(cutoff) == 0
    assert total(store) == 3


def test_expire_idempotency_keys_is_bounded(store: Store) -> None:
    for i in range(3):
        store.create([job()], f"key-{i}", "h")
    assert store.expire_idempotency_keys(time.time() + 60, limit=2) == 2
    assert store.expire_idempotency_keys(time.time() + 60, limit=2) == 1


def test_threads_write_concurrently(store: Store) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(25):
                (j,), _ = store.create([job()])
                store.mark_processing([j.tracking_id])
                store.finish([done(j.tracking_id)])
        except BaseException as exc:  # reported below, with the thread's traceback
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert store.count_by_status()[Status.DONE] == 150


def test_ping_answers(store: Store) -> None:
    store.ping()


def test_store_reconnects_after_close(store: Store) -> None:
    a = job()
    store.create([a])
    store.close()
    assert store.get(a.tracking_id) == a
    store.close()
    store.close()


# -- open_store --------------------------------------------------------------------------


def test_open_store_sqlite_absolute_path_creates_parent_dirs(tmp_path) -> None:
    path = tmp_path / "deep" / "er" / "jobs.db"
    with open_store(f"sqlite:///{path}") as store:
        assert isinstance(store, SqliteStore)
        assert not path.parent.exists()  # nothing happens before first use
        store.ping()
    assert path.exists()


def test_open_store_sqlite_relative_path(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store("sqlite:///sub/jobs.db") as store:
        store.create([job()])
    assert (tmp_path / "sub" / "jobs.db").exists()


@pytest.mark.parametrize(
    ("url", "database"),
    [
        ("mongodb://127.0.0.1:1/orders", "orders"),
        ("mongodb://user:pw@a:1,b:2/?replicaSet=rs", "predictq"),
        ("mongodb://127.0.0.1:1", "predictq"),
        ("mongodb+srv://cluster.invalid/jobs?retryWrites=true", "jobs"),
        ("mongomock://", "predictq"),
        ("mongomock://anything/mine", "mine"),
    ],
)
def test_open_store_mongo_urls_pick_the_database_without_connecting(url, database) -> None:
    store = open_store(url)
    assert isinstance(store, MongoStore)
    assert store.database_name == database
    store.close()


@pytest.mark.parametrize("url", ["postgres://u:secret@h/db", "sqlite://", "jobs.db", ""])
def test_open_store_rejects_what_it_cannot_open(url) -> None:
    with pytest.raises(ValueError, match="sqlite:///") as caught:
        open_store(url)
    assert "secret" not in str(caught.value)
