"""Retention: finished jobs and Idempotency-Keys expire, queued and processing jobs never
(issue 13: the store only grew)."""

from __future__ import annotations

import json
import time

from predictq import retention
from predictq.jobs import Job, Outcome, Status
from predictq.retention import Retention
from tests.conftest import drain
from worker.factory import create_worker

DAY = 24 * 3600


def post(client, text: str, key: str | None = None):
    headers = {"Idempotency-Key": key} if key else {}
    r = client.post("/v1/predictions", data=json.dumps(
        {"model": "language", "input": {"text": text}}), content_type="application/json",
        headers=headers)
    assert r.status_code == 202, r.get_json()
    return r.get_json()["tracking_id"]


def test_finished_jobs_and_keys_expire_and_waiting_jobs_stay(client, services, settings):
    finished = post(client, "Bonjour tout le monde, comment allez-vous ?", key="order-1")
    drain(settings, 1)
    waiting = Job(model="language", input={"text": "hola"}, created_at=time.time() - 90 * DAY)
    processing = Job(model="language", input={"text": "hej"}, created_at=time.time() - 90 * DAY)
    services.store.create([waiting, processing])
    services.store.mark_processing([processing.tracking_id])
    task = Retention(settings.replace(job_retention_s=30 * DAY,
                                      idempotency_retention_s=DAY), services.store)

    assert task.expire(now=time.time() + DAY - 60) == (0, 0)  # nothing old enough yet
    assert task.expire(now=time.time() + DAY + 60) == (0, 1)  # the key, not its job
    assert services.store.get(finished).status is Status.DONE
    again = post(client, "Bonjour tout le monde, comment allez-vous ?", key="order-1")
    assert again != finished  # the expired key made a new job

    assert task.expire(now=time.time() + 30 * DAY + 60) == (1, 1)
    assert client.get(f"/v1/predictions/{finished}").status_code == 404
    assert services.store.get(again).status is Status.QUEUED  # never expires while waiting
    assert services.store.get(waiting.tracking_id).status is Status.QUEUED
    assert services.store.get(processing.tracking_id).status is Status.PROCESSING
    # The model page counts the results still stored: fewer now, but it answers.
    assert client.get("/v1/models/language").status_code == 200


def test_a_key_never_outlives_its_jobs_and_zero_keeps_for_ever(settings):
    assert retention.key_retention_s(settings.replace(job_retention_s=3600,
                                                      idempotency_retention_s=DAY)) == 3600
    assert retention.key_retention_s(settings.replace(idempotency_retention_s=0)) == \
        settings.job_retention_s
    forever = settings.replace(job_retention_s=0, idempotency_retention_s=0)
    assert retention.key_retention_s(forever) is None
    assert retention.job_retention_s(forever) is None


def test_bounded_batches_work_off_a_backlog(services, settings, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 3)
    monkeypatch.setattr(retention, "MAX_BATCHES", 2)
    jobs = [Job(model="language", input={"text": f"t{i}"}) for i in range(10)]
    services.store.create(jobs)
    services.store.finish([Outcome(j.tracking_id, Status.DONE, result={}) for j in jobs])
    task = Retention(settings.replace(job_retention_s=60), services.store)
    later = time.time() + 120
    assert task.expire(now=later) == (6, 0)  # two batches of three per round
    assert task.expire(now=later) == (4, 0)


def test_every_worker_sweeps_retention(settings):
    worker = create_worker(settings)
    assert any(isinstance(t, Retention) for t in worker.sweeper.tasks)
