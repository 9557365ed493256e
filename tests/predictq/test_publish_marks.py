import time

from predictq.errors import StoreUnavailable
from predictq.jobs import Job
from predictq.publish_marks import PublishedMarks
from predictq.store.sqlite import SqliteStore


def jobs_in(store, n):
    jobs = [Job(model="language", input={"text": f"text {i}"}) for i in range(n)]
    store.create(jobs)
    return [j.tracking_id for j in jobs]


def test_marks_are_written_in_the_background(tmp_path):
    store = SqliteStore(tmp_path / "jobs.db")
    ids = jobs_in(store, 3)
    marks = PublishedMarks(store.mark_published)
    marks.add(ids)
    deadline = time.monotonic() + 5
    while not all(store.get(t).published for t in ids):
        assert time.monotonic() < deadline, "marks were never written"
        time.sleep(0.01)
    marks.close()


def test_close_writes_what_is_pending(tmp_path):
    store = SqliteStore(tmp_path / "jobs.db")
    ids = jobs_in(store, 2)
    marks = PublishedMarks(store.mark_published)
    marks.INTERVAL_S = 60  # the background thread will not get to them
    marks.add(ids)
    marks.close()
    assert all(store.get(t).published for t in ids)


def test_a_store_outage_leaves_jobs_to_the_sweeper(tmp_path):
    store = SqliteStore(tmp_path / "jobs.db")
    ids = jobs_in(store, 1)

    class Down(SqliteStore):
        def mark_published(self, tracking_ids):
            raise StoreUnavailable("down")

    marks = PublishedMarks(Down(tmp_path / "jobs.db").mark_published)
    marks.add(ids)
    marks.close()  # logs, does not raise
    assert [j.tracking_id for j in store.unpublished(older_than=time.time() + 1)] == ids
