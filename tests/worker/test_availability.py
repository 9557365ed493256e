"""A worker that cannot load a model leaves its messages for one that can (issue 13):
no job fails, no attempt is counted, and the worker says so once."""

from __future__ import annotations

import logging
import shutil
import threading
import time

import pytest

from predictq.jobs import Job, Status
from predictq.messaging import connect, queue_for
from predictq.services import Services
from tests.conftest import drain
from tests.models.conftest import trained_sensor  # noqa: F401  (a session fixture)
from worker import consumer
from worker.factory import create_worker

TEXTS = ["Hyvää huomenta kaikille!", "Buenos días a todos.", "God morgon allihopa!"]


def submit(services: Services, model: str, inputs: list[dict], family: str) -> list[Job]:
    jobs = [Job(model=model, input=item) for item in inputs]
    services.store.create(jobs)
    services.publisher.publish(jobs, family)
    return jobs


def depth(settings, family: str) -> int:
    with connect(settings) as conn:
        _, n, _ = queue_for(settings, family)(conn.channel()).queue_declare(passive=True)
        return n


def run_for(worker, seconds: float) -> None:
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    time.sleep(seconds)
    worker.stop_event.set()
    thread.join(10)


def test_a_worker_without_the_artifact_leaves_the_jobs_queued_for_one_with_it(
        services, settings, tmp_path, caplog):
    jobs = submit(services, "language", [{"text": t} for t in TEXTS], "text")
    empty = settings.replace(model_dir=tmp_path / "no-models")

    with caplog.at_level(logging.INFO):
        worker = create_worker(empty, batch_size=2)
        run_for(worker, 1.5)

    # Once, this 10,500 jobs failed in seconds; now none is touched.
    for job in jobs:
        stored = services.store.get(job.tracking_id)
        assert stored.status is Status.QUEUED and stored.attempts == 0 and stored.error is None
    assert worker.processed == 0 and worker.consumed == ()
    assert depth(settings, "text") == len(jobs)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    unable = [r for r in errors if "'language' cannot be served" in r.getMessage()]
    assert len(unable) == 1, [r.getMessage() for r in errors]

    # A worker that has the artifact drains them all.
    assert drain(settings, len(jobs)) == len(jobs)
    assert [services.store.get(j.tracking_id).status for j in jobs] == [Status.DONE] * 3


def test_a_message_held_for_a_model_it_cannot_load_goes_back_uncounted(
        services, settings, tmp_path, trained_sensor, monkeypatch):  # noqa: F811
    # The sensor queue carries two models: a worker with only `appliance` consumes it,
    # answers the appliance jobs and hands the anomaly ones back.
    monkeypatch.setattr(consumer, "LEFT_PAUSE_S", 0.05)
    partial = tmp_path / "only-appliance"
    shutil.copytree(settings.resolved_model_dir / "appliance", partial / "appliance")
    event = {"sensor_id": "s", "timestamp": 0.0, "sampling_period_ms": 10.0}
    appliance = submit(services, "appliance",
                       [{**event, "readings": [float(i % 7) for i in range(1460)]}], "sensor")
    anomaly = submit(services, "anomaly",
                     [{**event, "readings": [float(i % 9) for i in range(512)]}], "sensor")

    worker = create_worker(settings.replace(model_dir=partial), families=["sensor"])
    run_for(worker, 1.5)

    assert worker.processed == 1 and worker.left >= 1
    assert services.store.get(appliance[0].tracking_id).status is Status.DONE
    left = services.store.get(anomaly[0].tracking_id)
    assert left.status is Status.QUEUED and left.attempts == 0
    assert depth(settings, "sensor") == 1
    assert drain(settings, 1) == 1
    assert services.store.get(anomaly[0].tracking_id).status is Status.DONE


def test_a_model_trained_after_the_worker_started_is_served(services, settings, tmp_path,
                                                            monkeypatch):
    monkeypatch.setattr(consumer, "RECHECK_S", 0.2)
    later = tmp_path / "trained-later"
    jobs = submit(services, "language", [{"text": t} for t in TEXTS], "text")
    worker = create_worker(settings.replace(model_dir=later), batch_size=4)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    time.sleep(0.5)
    assert worker.processed == 0
    shutil.copytree(settings.resolved_model_dir / "language", later / "language")
    deadline = time.monotonic() + 20
    while worker.processed < len(jobs) and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.stop_event.set()
    thread.join(10)
    assert worker.consumed == ("text",)
    assert [services.store.get(j.tracking_id).status for j in jobs] == [Status.DONE] * 3


@pytest.fixture
def embedded(settings, tmp_path):
    """The embedded transport, where workers report what they cannot serve."""
    embedded = settings.replace(broker_url="", data_dir=tmp_path / "embedded")
    services = Services.build(embedded)
    yield embedded, services
    services.close()


def test_the_api_shows_what_a_worker_cannot_serve(embedded, tmp_path):
    from api.app import create_app

    settings, services = embedded
    client = create_app(services=services).test_client()
    worker = create_worker(settings.replace(model_dir=tmp_path / "none"), families=["text"])
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            models = client.get("/healthz").get_json()["models"]
            if "workers_unable" in models["language"]:
                break
            time.sleep(0.1)
        health = client.get("/healthz")
        queues = {q["family"]: q for q in client.get("/v1/queue").get_json()["queues"]}
    finally:
        worker.stop_event.set()
        thread.join(10)
    assert health.status_code == 200  # liveness: the API itself is fine
    language = health.get_json()["models"]["language"]
    assert language["ok"] is False and language["workers_unable"] == [worker.worker_id]
    assert "cannot load it" in language["error"]
    assert "language" in queues["text"]["unavailable_models"]
    assert queues["text"]["consumers"] == 0  # it does not consume what it cannot serve
