"""The outbox sweeper on a real SQLite store and the in-memory broker."""

from __future__ import annotations

import time

from predictq.jobs import Job, Status
from predictq.sweeper import Sweeper
from tests.conftest import drain


def test_publishes_stale_unpublished_and_requeues_stuck_processing(services, settings):
    store = services.store
    never_published = Job(model="language", input={"text": "Dobrý den, jak se máte?"})
    stuck = Job(model="language", input={"text": "Dzień dobry, jak się masz?"})
    fresh = Job(model="language", input={"text": "Bom dia, como vai?"})
    store.create([never_published, stuck, fresh])
    store.mark_published([stuck.tracking_id])
    store.mark_processing([stuck.tracking_id])  # a worker took it, then vanished
    sweeper = Sweeper(settings.replace(sweep_after_s=0), store, services.publisher)
    time.sleep(0.01)
    assert sweeper.sweep_once() == 3  # fresh is stale too with sweep_after_s=0
    assert sweeper.sweep_once() == 0  # claimed: not again in the next round
    assert drain(settings, 3) == 3
    assert {store.get(j.tracking_id).status for j in (never_published, stuck, fresh)} == {
        Status.DONE}
    assert store.get(stuck.tracking_id).attempts == 2


def test_leaves_recent_jobs_alone(services, settings):
    job = Job(model="language", input={"text": "Hola"})
    services.store.create([job])
    assert Sweeper(settings.replace(sweep_after_s=60), services.store,
                   services.publisher).sweep_once() == 0
    assert not services.store.get(job.tracking_id).published


def test_a_job_for_an_unknown_model_fails_instead_of_looping(services, settings):
    job = Job(model="retired-model", input={"text": "x"})
    services.store.create([job])
    Sweeper(settings.replace(sweep_after_s=0), services.store, services.publisher).sweep_once()
    failed = services.store.get(job.tracking_id)
    assert failed.status is Status.FAILED and "no longer served" in failed.error
