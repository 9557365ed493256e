"""What every store's model-lifecycle side promises (predictq/store/models.py), run once
per backend: SQLite, mongomock, the MongoDB wire server, and a real MongoDB if given."""

from __future__ import annotations

import threading
import time

import pytest

from predictq.errors import StaleDecision
from predictq.jobs import Job, Outcome, Status
from predictq.lifecycle.records import Action, Feedback, ShadowResult
from predictq.store import Store


def feedback(tid: str, label: str, predicted: str = "en", *, model: str = "language",
             version: str = "v1", at: float | None = None) -> Feedback:
    now = time.time() if at is None else at
    return Feedback(tid, model, version, label, predicted, {"text": f"text of {tid}"}, now,
                    now)


def test_a_model_without_decisions_is_absent(store: Store) -> None:
    assert store.models.serving() == {}
    assert store.models.history("language") == []


def test_switches_move_serving_and_shadow_and_are_kept_in_history(store: Store) -> None:
    models = store.models
    models.switch("language", Action.PROMOTE, "aaaaaaaaaaaa", reason="first")
    models.switch("language", Action.SHADOW, "bbbbbbbbbbbb")
    serving = models.serving()["language"]
    assert (serving.version, serving.shadow, serving.generation) == (
        "aaaaaaaaaaaa", "bbbbbbbbbbbb", 2)
    # Promoting the version in shadow takes it out of shadow.
    models.switch("language", Action.PROMOTE, "bbbbbbbbbbbb")
    serving = models.serving()["language"]
    assert (serving.version, serving.shadow, serving.generation) == ("bbbbbbbbbbbb", None, 3)
    models.switch("language", Action.ROLLBACK, "aaaaaaaaaaaa", reason="worse")
    history = models.history("language")
    assert [(s.action, s.version, s.previous) for s in history] == [
        (Action.ROLLBACK, "aaaaaaaaaaaa", "bbbbbbbbbbbb"),
        (Action.PROMOTE, "bbbbbbbbbbbb", "aaaaaaaaaaaa"),
        (Action.SHADOW, "bbbbbbbbbbbb", None),
        (Action.PROMOTE, "aaaaaaaaaaaa", None),
    ]
    assert history[0].reason == "worse"
    assert models.history("appliance") == []
    assert set(models.serving()) == {"language"}


def test_unshadow_clears_only_the_shadow(store: Store) -> None:
    store.models.switch("language", Action.PROMOTE, "aaaaaaaaaaaa")
    store.models.switch("language", Action.SHADOW, "bbbbbbbbbbbb")
    store.models.switch("language", Action.UNSHADOW, None)
    serving = store.models.serving()["language"]
    assert (serving.version, serving.shadow) == ("aaaaaaaaaaaa", None)


def test_a_switch_against_a_stale_generation_is_refused_and_changes_nothing(
        store: Store) -> None:
    store.models.switch("language", Action.PROMOTE, "aaaaaaaaaaaa")
    with pytest.raises(StaleDecision):
        store.models.switch("language", Action.PROMOTE, "bbbbbbbbbbbb", expect_generation=0)
    assert store.models.serving()["language"].version == "aaaaaaaaaaaa"
    assert len(store.models.history("language")) == 1
    store.models.switch("language", Action.PROMOTE, "bbbbbbbbbbbb", expect_generation=1)
    assert store.models.serving()["language"].version == "bbbbbbbbbbbb"


def test_concurrent_switches_each_take_their_own_generation(store: Store) -> None:
    errors: list[BaseException] = []

    def promote(version: str) -> None:
        try:
            for _ in range(5):
                store.models.switch("language", Action.PROMOTE, version)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=promote, args=(c * 12,)) for c in "abcd"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert store.models.serving()["language"].generation == 20
    assert len(store.models.history("language", limit=100)) == 20


def test_feedback_is_idempotent_and_a_new_label_replaces_the_old_keeping_history(
        store: Store) -> None:
    first = store.models.put_feedback(feedback("t1", "hr", "sr", at=100.0))
    assert first.correct is False
    again = store.models.put_feedback(feedback("t1", "hr", "sr", at=200.0))
    assert again == first  # unchanged, the first time kept
    changed = store.models.put_feedback(feedback("t1", "sr", "sr", at=300.0))
    assert (changed.label, changed.history, changed.correct) == ("sr", ("hr",), True)
    assert (changed.created_at, changed.updated_at) == (100.0, 300.0)
    stored = store.models.get_feedback("t1")
    assert stored == changed
    assert store.models.get_feedback("nope") is None
    assert store.models.feedback_count("language") == 1


def test_concurrent_feedback_on_one_job_loses_no_label(store: Store) -> None:
    labels = ["hr", "sr", "bs", "sl", "mk", "bg"]

    def give(label: str) -> None:
        store.models.put_feedback(feedback("t1", label))

    threads = [threading.Thread(target=give, args=(label,)) for label in labels]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = store.models.get_feedback("t1")
    assert stored is not None
    assert sorted([*stored.history, stored.label]) == sorted(labels)


def test_feedback_lists_per_model_oldest_first_with_inputs(store: Store) -> None:
    store.models.put_feedback(feedback("a", "hr", at=10.0))
    store.models.put_feedback(feedback("b", "sr", at=20.0))
    store.models.put_feedback(feedback("c", "3", "3", model="appliance", at=15.0))
    listed = store.models.feedback("language")
    assert [f.tracking_id for f in listed] == ["a", "b"]
    assert listed[0].input == {"text": "text of a"}
    assert [f.tracking_id for f in store.models.feedback("language", limit=1)] == ["b"]
    light = store.models.feedback("language", with_input=False)
    assert [(f.tracking_id, f.label, f.input) for f in light] == [("a", "hr", {}), ("b", "sr", {})]
    assert store.models.feedback_count("appliance") == 1


def test_shadow_results_are_stored_once_and_summarised(store: Store) -> None:
    rows = [ShadowResult(f"t{i}", "language", "bbbbbbbbbbbb", "aaaaaaaaaaaa",
                         "hr" if i % 3 else "sr", "hr", 1000.0 + i) for i in range(9)]
    store.models.put_shadow(rows)
    store.models.put_shadow(rows[:4])  # a redelivered batch
    assert store.models.shadow_summary("language") == {"bbbbbbbbbbbb": (9, 6)}
    assert store.models.shadow_summary("appliance") == {}
    some = store.models.shadow_results("language", tracking_ids=["t1", "t2", "zz"])
    assert sorted(r.tracking_id for r in some) == ["t1", "t2"]
    assert [r.tracking_id for r in store.models.shadow_results("language", limit=2)] == [
        "t8", "t7"]
    assert store.models.shadow_results("language", version="cccccccccccc") == []


def test_prediction_counts_per_version_from_the_results(store: Store) -> None:
    jobs = [Job("language", {"text": str(i)}) for i in range(5)]
    store.create(jobs)
    store.mark_processing([j.tracking_id for j in jobs])
    store.finish([Outcome(jobs[0].tracking_id, Status.DONE, {"label": "en"},
                          model_version="aaaaaaaaaaaa")])
    time.sleep(0.01)
    store.finish([Outcome(j.tracking_id, Status.DONE, {"label": "en"},
                          model_version="bbbbbbbbbbbb") for j in jobs[1:4]])
    store.finish([Outcome(jobs[4].tracking_id, Status.FAILED, error="x",
                          model_version="bbbbbbbbbbbb")])
    counts = store.models.prediction_counts("language")
    assert [(c.version, c.predictions) for c in counts] == [
        ("aaaaaaaaaaaa", 1), ("bbbbbbbbbbbb", 3)]
    assert counts[0].first_at <= counts[0].last_at <= counts[1].first_at <= counts[1].last_at
    assert store.models.prediction_counts("appliance") == []


def test_a_learning_round_is_claimed_once(store: Store) -> None:
    assert store.models.claim_learning("language", 100) is True
    assert store.models.claim_learning("language", 100) is False
    assert store.models.claim_learning("language", 200) is True
    assert store.models.claim_learning("appliance", 100) is True
