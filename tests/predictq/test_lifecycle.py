"""The model lifecycle in one process: workers follow promotions, rollbacks and shadows
without a restart; feedback, per-version accuracy, guarded promotion and evaluation."""

from __future__ import annotations

import copy
import json
import shutil
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from models.artifacts import current_version, load_estimator, save_artifact
from predictq.cli import main
from predictq.errors import ArtifactError, InvalidInput, PromotionRefused
from predictq.jobs import Job, Outcome, Status
from predictq.lifecycle import decisions
from predictq.lifecycle.records import Action
from predictq.lifecycle.serving import ModelServer
from predictq.settings import Settings
from predictq.store import open_store
from worker.factory import create_worker

TEXTS = {
    "sv": "Jag tycker om att läsa böcker på kvällarna när det regnar ute.",
    "de": "Wir fahren morgen früh mit dem Zug nach Hamburg zu meiner Schwester.",
    "es": "Mañana vamos a la playa con nuestros amigos si hace buen tiempo.",
    "fr": "Nous avons mangé une excellente soupe à l'oignon dans ce petit restaurant.",
}


def derived(model_dir: Path, change) -> str:
    """A new version of `language` in `model_dir`: the current one changed by `change`."""
    estimator, manifest = load_estimator(model_dir, "language")
    estimator = copy.deepcopy(estimator)
    change(estimator)
    saved = save_artifact(estimator, model_dir, "language", data=manifest.data,
                          metrics=manifest.metrics, params=manifest.params)
    assert saved.version != manifest.version
    return saved.version


def recalibrated(estimator) -> None:
    # Same answers, other confidences: a harmless new version.
    estimator.language_calibration_ = {**estimator.language_calibration_,
                                       "a": estimator.language_calibration_["a"] * 1.01}


def scrambled(estimator) -> None:
    # Every class answered as another: a version that is plainly worse.
    nb = estimator.named_steps["nb"]
    nb.classes_ = nb.classes_[::-1].copy()


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory, model_dir: Path
             ) -> tuple[Path, str, str, str]:
    """A model folder of its own with three language versions: (dir, v1, v2, bad)."""
    folder = tmp_path_factory.mktemp("lifecycle-models")
    shutil.copytree(model_dir / "language", folder / "language")
    v1 = current_version(folder, "language")
    v2 = derived(folder, recalibrated)
    bad = derived(folder, scrambled)
    assert current_version(folder, "language") == v1  # new versions wait for promotion
    return folder, v1, v2, bad


@pytest.fixture
def lc_settings(settings: Settings, versions) -> Settings:
    return settings.replace(model_dir=versions[0], model_poll_ms=50)


def done_job(store, text: str, label: str, version: str) -> str:
    job = Job("language", {"text": text})
    store.create([job])
    store.mark_processing([job.tracking_id])
    store.finish([Outcome(job.tracking_id, Status.DONE,
                          {"label": label, "name": label, "confidence": 0.9},
                          model_version=version)])
    return job.tracking_id


def feedback(client, tid: str, body) -> object:
    return client.post(f"/v1/predictions/{tid}/feedback", data=json.dumps(body),
                       content_type="application/json")


def test_a_server_follows_promotion_shadow_and_rollback_without_reloading_per_call(
        lc_settings, versions) -> None:
    folder, v1, v2, _ = versions
    with open_store(lc_settings.resolved_store_url) as store:
        server = ModelServer(store, folder, poll_s=60)
        assert server.model("language").version == v1  # no decision: CURRENT
        assert server.shadow("language") is None
        store.models.switch("language", Action.SHADOW, v2)
        server.refresh()
        assert (server.model("language").version, server.shadow("language").version) == (v1, v2)
        store.models.switch("language", Action.PROMOTE, v2)
        server.refresh()
        assert server.model("language").version == v2 and server.shadow("language") is None
        same = server.model("language")
        server.refresh()  # nothing changed: the loaded object is kept, not reloaded
        assert server.model("language") is same
        store.models.switch("language", Action.ROLLBACK, v1)
        server.refresh()
        assert server.model("language").version == v1


def test_a_version_this_worker_cannot_verify_is_refused_and_the_old_one_keeps_serving(
        lc_settings, versions, tmp_path) -> None:
    folder, v1, v2, _ = versions
    tampered = tmp_path / "models"
    shutil.copytree(folder, tampered)
    artifact = tampered / "language" / v2 / "model.joblib"
    artifact.write_bytes(artifact.read_bytes()[:-10] + b"0123456789")
    with open_store(lc_settings.resolved_store_url) as store:
        # The tampered bytes are not promotable, not even by force...
        with pytest.raises(ArtifactError):
            decisions.promote(store, tampered, "language", v2, force=True)
        server = ModelServer(store, tampered, poll_s=60)
        assert server.model("language").version == v1
        # ...and a worker told to serve them (promoted where they verified) keeps v1.
        store.models.switch("language", Action.PROMOTE, v2)
        server.refresh()
        assert server.model("language").version == v1


def test_workers_switch_versions_while_consuming_and_every_result_names_its_version(
        lc_settings, services, versions) -> None:
    _, v1, v2, _ = versions
    worker = create_worker(lc_settings)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    ids: list[str] = []
    try:
        def submit(n: int) -> None:
            for i in range(n):
                text = list(TEXTS.values())[i % len(TEXTS)]
                ids.append(services.intake.submit(
                    {"model": "language", "input": {"text": text}}).tracking_id)

        submit(20)
        _wait(lambda: worker.processed >= 20)
        services.store.models.switch("language", Action.PROMOTE, v2)
        _wait(lambda: worker.model_server.model("language").version == v2)
        submit(20)
        _wait(lambda: worker.processed >= 40)
    finally:
        worker.stop_event.set()
        thread.join(10)
    jobs = services.store.get_many(ids)
    assert [j.status for j in jobs] == [Status.DONE] * 40
    assert {j.model_version for j in jobs[:20]} == {v1}
    assert {j.model_version for j in jobs[20:]} == {v2}
    counts = {c.version: c.predictions for c in
              services.store.models.prediction_counts("language")}
    assert counts == {v1: 20, v2: 20}


def test_a_shadow_answers_beside_the_served_version_without_changing_results(
        lc_settings, services, client, versions) -> None:
    _, v1, _, bad = versions
    services.store.models.switch("language", Action.SHADOW, bad)
    worker = create_worker(lc_settings)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        _wait(lambda: worker.model_server.shadow("language") is not None
              or worker.model_server.model("language") is None)
        ids = [services.intake.submit({"model": "language", "input": {"text": t}}).tracking_id
               for t in TEXTS.values()]
        _wait(lambda: worker.processed >= len(ids))
    finally:
        worker.stop_event.set()
        thread.join(10)
    jobs = services.store.get_many(ids)
    assert [j.result["label"] for j in jobs] == list(TEXTS)  # clients see the served answers
    assert {j.model_version for j in jobs} == {v1}
    for tid, label in zip(ids, TEXTS, strict=True):
        assert feedback(client, tid, {"label": label}).status_code == 200
    detail = client.get("/v1/models/language").get_json()
    assert detail["shadow"] == bad
    (comparison,) = detail["shadow_comparison"]
    assert comparison["version"] == bad and comparison["compared"] == len(ids)
    assert comparison["with_feedback"] == len(ids)
    assert comparison["served_accuracy"] == 1.0
    assert comparison["shadow_accuracy"] < 0.5 and comparison["agreement"] < 0.5


def test_feedback_contract(client, services) -> None:
    store = services.store
    tid = done_job(store, TEXTS["sv"], "sv", "aaaaaaaaaaaa")
    assert feedback(client, "nope", {"label": "sv"}).status_code == 404
    queued = Job("language", {"text": "hello"})
    store.create([queued])
    r = feedback(client, queued.tracking_id, {"label": "en"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_finished"
    r = feedback(client, tid, {"label": "xx"})
    assert r.status_code == 422 and "not a label" in r.get_json()["error"]["message"]
    assert feedback(client, tid, {"label": 3}).status_code == 422
    assert feedback(client, tid, {"lab": "sv"}).status_code == 400
    assert client.post(f"/v1/predictions/{tid}/feedback", data="{",
                       content_type="application/json").status_code == 400
    assert store.models.get_feedback(tid) is None  # nothing stored by any of those
    first = feedback(client, tid, {"label": "da"}).get_json()
    assert (first["label"], first["predicted"], first["correct"]) == ("da", "sv", False)
    assert first["model_version"] == "aaaaaaaaaaaa"
    assert feedback(client, tid, {"label": "da"}).get_json() == first  # idempotent
    second = feedback(client, tid, {"label": "sv"}).get_json()
    assert (second["label"], second["correct"], second["previous_labels"]) == ("sv", True, ["da"])
    assert client.get(f"/v1/predictions/{tid}/feedback").get_json() == second
    # A model without labels takes no feedback.
    anomaly = Job("anomaly", {"readings": [1.0] * 8})
    store.create([anomaly])
    store.mark_processing([anomaly.tracking_id])
    store.finish([Outcome(anomaly.tracking_id, Status.DONE, {"score": 0.1, "anomalous": False})])
    r = feedback(client, anomaly.tracking_id, {"label": "normal"})
    assert r.status_code == 422 and "no labels" in r.get_json()["error"]["message"]


def test_model_detail_shows_accuracy_per_version_with_interval_and_confusions(
        client, services) -> None:
    store = services.store
    for i, (predicted, truth) in enumerate([("sr", "hr")] * 3 + [("hr", "hr")] * 5
                                           + [("da", "nb")]):
        tid = done_job(store, f"text {i}", predicted, "aaaaaaaaaaaa")
        assert feedback(client, tid, {"label": truth}).status_code == 200
    done_job(store, "no feedback", "en", "bbbbbbbbbbbb")
    detail = client.get("/v1/models/language").get_json()
    by_version = {v["version"]: v for v in detail["versions"]}
    a = by_version["aaaaaaaaaaaa"]
    assert (a["predictions"], a["feedback"], a["correct"]) == (9, 9, 5)
    assert a["accuracy"] == round(5 / 9, 4)
    low, high = a["accuracy_ci95"]
    assert low < 5 / 9 < high and high - low > 0.3  # nine answers say little
    assert a["confusions"][0] == {"predicted": "sr", "label": "hr", "count": 3}
    assert by_version["bbbbbbbbbbbb"]["feedback"] == 0
    assert by_version["bbbbbbbbbbbb"]["accuracy"] is None
    assert client.get("/v1/models/nope").status_code == 404


def test_promotion_is_refused_for_a_worse_version_unless_forced_and_rollback_returns(
        lc_settings, services, versions) -> None:
    folder, v1, v2, bad = versions
    store = services.store
    for label, text in TEXTS.items():
        done_job(store, text, label, v1)
    for job in store.list_recent(limit=10):
        store.models.put_feedback(_truth(job, {v: k for k, v in TEXTS.items()}[
            job.input["text"]]))
    with pytest.raises(PromotionRefused, match="worse"):
        decisions.promote(store, folder, "language", bad)
    assert decisions.serving_version(store, folder, "language") == v1
    decisions.promote(store, folder, "language", v2)  # not worse: allowed
    assert decisions.serving_version(store, folder, "language") == v2
    decisions.promote(store, folder, "language", bad, force=True)
    assert decisions.serving_version(store, folder, "language") == bad
    decisions.rollback(store, folder, "language")
    assert decisions.serving_version(store, folder, "language") == v2
    decisions.rollback(store, folder, "language")
    assert decisions.serving_version(store, folder, "language") == v1
    with pytest.raises(InvalidInput, match="nothing to roll back"):
        decisions.rollback(store, folder, "language")
    with pytest.raises(ArtifactError):
        decisions.promote(store, folder, "language", "0123456789ab", force=True)
    actions = [s.action for s in store.models.history("language")]
    assert actions == [Action.ROLLBACK, Action.ROLLBACK, Action.PROMOTE, Action.PROMOTE]


def test_the_cli_promotes_shadows_evaluates_and_shows(lc_settings, versions) -> None:
    _, v1, v2, bad = versions
    env = lc_settings.as_env()
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    assert f"serving {v1}" in run("models")
    assert "shadow " + bad in run("models", "shadow", "language", bad)
    assert f"serving {v2}" in run("models", "promote", "language", v2)
    refused = runner.invoke(main, ["models", "promote", "language", bad], env=env)
    assert refused.exit_code == 1 and "worse" in refused.output
    shown = json.loads(run("models", "show", "language", "--json"))
    assert (shown["serving"], shown["shadow"]) == (v2, bad)
    assert "held-out" in run("evaluate", "language", "--version", v1)
    assert f"serving {v1} again" in run("models", "rollback", "language")


def _truth(job: Job, label: str):
    from predictq.lifecycle.records import Feedback

    now = time.time()
    return Feedback(job.tracking_id, job.model, job.model_version, label,
                    job.result["label"], job.input, now, now)


def _wait(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_decisions_show_in_metrics(client, services) -> None:
    services.store.models.switch("language", Action.PROMOTE, "aaaaaaaaaaaa")
    services.store.models.switch("language", Action.SHADOW, "bbbbbbbbbbbb")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'predictq_model_serving{model="language",version="aaaaaaaaaaaa"} 1.0' in text
    assert 'predictq_model_shadow{model="language",version="bbbbbbbbbbbb"} 1.0' in text
    assert 'predictq_model_decisions{model="language"} 2.0' in text
    assert client.get("/v1/models").get_json()["models"][0]["shadow"] == "bbbbbbbbbbbb"


def test_learning_runs_once_per_threshold_and_promotes_only_when_enabled(
        lc_settings, services, versions) -> None:
    from models.artifacts import versions as folder_versions
    from predictq.lifecycle.learning import LearningTask

    folder, v1, _, _ = versions
    store = services.store
    tids = [done_job(store, text, label, v1) for label, text in TEXTS.items()]
    for tid, label in zip(tids[:3], TEXTS, strict=False):
        store.models.put_feedback(_truth(store.get(tid), label))
    before = {m.version for m in folder_versions(folder, "language")}
    task = LearningTask(lc_settings.replace(learn_every=4, learn_auto_promote=True), store)
    task()  # 3 labels: below the threshold
    assert {m.version for m in folder_versions(folder, "language")} == before
    store.models.put_feedback(_truth(store.get(tids[3]), "fr"))
    task()
    task()  # the same threshold again: claimed already, nothing more
    learned = {m.version for m in folder_versions(folder, "language")} - before
    assert len(learned) == 1
    (version,) = learned
    assert decisions.serving_version(store, folder, "language") == version
    assert store.models.history("language")[0].reason.startswith("learned from 4 labels")
    with pytest.raises(InvalidInput, match="cannot learn"):
        from predictq.lifecycle.learning import learn

        learn(store, folder, "appliance")
