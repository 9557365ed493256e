"""BatchProcessor on a real SQLite store with a stand-in model that records its calls."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from predictq.jobs import Job, Status
from predictq.processing import BatchProcessor, Delivery
from predictq.store import open_store


class FakeModel:
    version = "abc123abc123"

    def __init__(self, poison: str | None = None) -> None:
        self.calls: list[int] = []
        self.poison = poison

    def predict(self, inputs):
        self.calls.append(len(inputs))
        if any(i["text"] == self.poison for i in inputs):
            raise RuntimeError("cannot score this")
        return [{"label": "xx", "length": len(i["text"])} | NON_FINITE.get(i["text"], {})
                for i in inputs]


# Inputs this stand-in answers with a number JSON cannot carry.
NON_FINITE = {"nan": {"score": float("nan")}, "inf": {"scores": {"a": [1.0, float("-inf")]}},
              "np": {"score": np.float64("nan")}}


@pytest.fixture
def store(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
    yield store
    store.close()


def queued(store, texts):
    jobs = [Job(model="language", input={"text": t}) for t in texts]
    store.create(jobs)
    return jobs


def body(job):
    return Delivery({"tracking_id": job.tracking_id, "model": job.model, "input": job.input,
                     "created_at": job.created_at})


def test_one_vectorised_call_per_batch_and_results_written(store):
    model = FakeModel()
    jobs = queued(store, ["a", "bb", "ccc"])
    BatchProcessor(store, lambda name: model).process([body(j) for j in jobs])
    assert model.calls == [3]
    for job in jobs:
        stored = store.get(job.tracking_id)
        assert stored.status is Status.DONE
        assert stored.result == {"label": "xx", "length": len(job.input["text"])}
        assert stored.model_version == "abc123abc123"


def test_a_poison_input_fails_alone(store):
    model = FakeModel(poison="bad")
    jobs = queued(store, ["good", "bad", "fine"])
    BatchProcessor(store, lambda name: model).process([body(j) for j in jobs])
    statuses = [store.get(j.tracking_id).status for j in jobs]
    assert statuses == [Status.DONE, Status.FAILED, Status.DONE]
    assert "cannot score this" in store.get(jobs[1].tracking_id).error


def test_redelivery_does_not_overwrite_a_final_result(store):
    jobs = queued(store, ["x"])
    BatchProcessor(store, lambda name: FakeModel()).process([body(jobs[0])])
    first = store.get(jobs[0].tracking_id)
    other = FakeModel()
    other.version = "ffffffffffff"
    BatchProcessor(store, lambda name: other).process([body(jobs[0])])
    again = store.get(jobs[0].tracking_id)
    assert again.model_version == first.model_version and again.updated_at == first.updated_at


def test_malformed_messages_fail_their_job_and_are_dead_lettered(store):
    jobs = queued(store, ["x"])
    report = BatchProcessor(store, lambda name: FakeModel()).process([
        Delivery({"tracking_id": jobs[0].tracking_id, "model": "language", "input": "oops"}),
        Delivery(["not", "an", "object"]),
        Delivery({"model": "language"}),
    ])
    job = store.get(jobs[0].tracking_id)
    assert job.status is Status.FAILED and "input" in job.error
    assert len(report.dead) == 3


def test_a_redelivered_final_job_is_a_suppressed_duplicate(store):
    model = FakeModel()
    jobs = queued(store, ["a"])
    processor = BatchProcessor(store, lambda name: model)
    processor.process([body(jobs[0])])
    report = processor.process([body(jobs[0])])
    assert report.duplicates == 1 and report.outcomes == [] and model.calls == [1]


def test_a_retried_job_is_predicted_alone(store):
    model = FakeModel()
    jobs = queued(store, ["a", "b", "c"])
    store.mark_processing([jobs[1].tracking_id])  # delivered once before, never finished
    processor = BatchProcessor(store, lambda name: model, retry_backoff_s=0.2)
    started = time.monotonic()
    report = processor.process([body(j) for j in jobs])
    assert time.monotonic() - started >= 0.2  # backed off before the retry
    assert report.retried == 1
    assert sorted(model.calls) == [1, 2]
    assert all(store.get(j.tracking_id).status is Status.DONE for j in jobs)


def test_after_max_attempts_a_job_fails_and_is_dead_lettered(store):
    model = FakeModel()
    jobs = queued(store, ["killer"])
    for _ in range(3):  # three deliveries that each killed their worker
        store.mark_processing([jobs[0].tracking_id])
    report = BatchProcessor(store, lambda name: model, max_attempts=3).process([body(jobs[0])])
    job = store.get(jobs[0].tracking_id)
    assert job.status is Status.FAILED and "gave up after 3 delivery attempts" in job.error
    assert [d.tracking_id for d in report.dead] == [jobs[0].tracking_id]
    assert model.calls == []


def test_a_model_that_cannot_load_leaves_the_jobs_for_another_worker(store):
    # It used to fail them: a worker without the artifact failed every job (issue 13).
    jobs = queued(store, ["x"])

    def missing(name):
        raise FileNotFoundError("no artifact")

    report = BatchProcessor(store, missing).process([body(jobs[0])])
    job = store.get(jobs[0].tracking_id)
    assert job.status is Status.QUEUED and job.attempts == 0 and job.error is None
    assert [d.tracking_id for d in report.left] == [jobs[0].tracking_id]
    assert report.dead == [] and report.outcomes == []


def test_a_message_for_an_unknown_model_fails_and_is_dead_lettered(store):
    jobs = queued(store, ["x"])
    message = Delivery({**body(jobs[0]).body, "model": "no-such-model"})
    report = BatchProcessor(store, lambda name: FakeModel()).process([message])
    job = store.get(jobs[0].tracking_id)
    assert job.status is Status.FAILED and "unknown model 'no-such-model'" in job.error
    assert report.dead == [message] and report.left == []


def test_a_result_holding_nan_or_infinity_fails_its_job_not_the_batch(store):
    # NaN is not JSON: written as a result it made the job unreadable to strict clients.
    jobs = queued(store, ["ok", "nan", "inf", "np"])
    BatchProcessor(store, lambda name: FakeModel()).process([body(j) for j in jobs])
    first, *bad = [store.get(j.tracking_id) for j in jobs]
    assert first.status is Status.DONE and first.result == {"label": "xx", "length": 2}
    for job in bad:
        assert job.status is Status.FAILED and job.result is None
        assert "not finite (NaN or infinity)" in job.error
        assert job.model_version == "abc123abc123"
        json.dumps(job.to_public(), allow_nan=False)  # what GET /v1/predictions/<id> sends
