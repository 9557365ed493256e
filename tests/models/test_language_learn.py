"""Learning from feedback (models/language/learn.py) and the `language` held-out set, on
the session's trained model and on a small pipeline whose true counts are known."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from models.language import evaluate, train
from models.language.learn import learn, reconstruct_counts, with_counts
from models.language.pipeline import build_pipeline, compact
from models.language.scoring import CALIBRATION_ATTRIBUTE, score
from models.loading import LoadedModel
from models.registry import get_spec

# Tatoeba sentences (data/tatoeba_ood.tsv) the trained model gets wrong: Serbian (Latin
# script) taken for Croatian.
SERBIAN_TAKEN_FOR_CROATIAN = "Marija dobro poznaje radna uputstva i tehničke propise."


@pytest.fixture(scope="module")
def heldout() -> tuple[list[dict[str, Any]], list[str]]:
    return get_spec("language").heldout()


def _row(estimator: Any, cls: str) -> np.ndarray:
    nb = estimator.named_steps["nb"]
    return np.asarray(nb.feature_log_prob_[list(nb.classes_).index(cls)], dtype=np.float64)


def _proba(estimator: Any, text: str, label: str) -> float:
    scores = score(estimator, [text])
    return float(scores.proba[0, scores.labels.index(label)])


def test_rebuilt_counts_are_the_counts_the_pipeline_was_fitted_with(heldout):
    inputs, labels = heldout
    rows = [i for i, label in enumerate(labels) if label in ("hr", "sr", "en")][:300]
    pipeline = build_pipeline()
    pipeline.fit([inputs[i]["text"] for i in rows], [labels[i] for i in rows])
    fitted = pipeline.named_steps["nb"].feature_count_.copy()

    compact(pipeline)
    assert pipeline.named_steps["nb"].feature_count_.size == 0  # what the artifact keeps
    rebuilt = reconstruct_counts(pipeline.named_steps["nb"])

    assert rebuilt.shape == fitted.shape
    assert np.array_equal(rebuilt == 0, fitted == 0)
    np.testing.assert_allclose(rebuilt, fitted, rtol=1e-4)


def test_the_model_rebuilt_from_counts_predicts_what_the_served_one_does(
    language_model: LoadedModel, heldout
):
    texts = [item["text"] for item in heldout[0]]
    served = score(language_model.estimator, texts)
    rebuilt = score(compact(with_counts(language_model.estimator)), texts)
    assert rebuilt.best == served.best
    assert float(np.abs(rebuilt.proba - served.proba).max()) < 1e-5


def test_learn_leaves_the_given_model_unchanged(language_model: LoadedModel):
    estimator = language_model.estimator
    nb = estimator.named_steps["nb"]
    table, counts = nb.feature_log_prob_.copy(), nb.class_count_.copy()
    calibration = copy.deepcopy(getattr(estimator, CALIBRATION_ATTRIBUTE))

    learned = learn(estimator, [SERBIAN_TAKEN_FOR_CROATIAN] * 3, ["sr"] * 3, weight=50)

    assert learned is not estimator
    assert learned.named_steps["nb"] is not nb
    assert np.array_equal(nb.feature_log_prob_, table)
    assert np.array_equal(nb.class_count_, counts)
    assert nb.feature_count_.size == 0
    assert getattr(estimator, CALIBRATION_ATTRIBUTE) == calibration
    assert getattr(learned, CALIBRATION_ATTRIBUTE) == calibration
    assert not np.array_equal(learned.named_steps["nb"].feature_log_prob_, table)


def test_feedback_moves_the_text_toward_its_label(language_model: LoadedModel):
    estimator = language_model.estimator
    text = SERBIAN_TAKEN_FOR_CROATIAN
    assert score(estimator, [text]).best == ["hr"]

    once = learn(estimator, [text], ["sr"])
    assert _proba(once, text, "sr") > _proba(estimator, text, "sr")
    # "sr" on a Latin text is learned by the Latin Serbian class, and by it alone.
    assert not np.allclose(_row(once, "sr-Latn"), _row(estimator, "sr-Latn"), atol=1e-5)
    for cls in ("sr-Cyrl", "hr", "en"):
        np.testing.assert_allclose(_row(once, cls), _row(estimator, cls), atol=1e-5)

    insisted = learn(estimator, [text], ["sr"], weight=100)
    assert score(insisted, [text]).best == ["sr"]


def test_every_language_keeps_an_equal_prior_after_learning(language_model: LoadedModel):
    # Serbian's two script classes share one language's prior; partial_fit (learning)
    # must not reset that to one share per class.
    learned = learn(language_model.estimator, [SERBIAN_TAKEN_FOR_CROATIAN], ["sr"])
    for estimator in (language_model.estimator, learned):
        nb = estimator.named_steps["nb"]
        prior = dict(zip(map(str, nb.classes_), np.exp(nb.class_log_prior_), strict=True))
        assert prior["sr-Cyrl"] == pytest.approx(prior["hr"] / 2)
        assert prior["sr-Latn"] == pytest.approx(prior["hr"] / 2)
        assert prior["hr"] == pytest.approx(prior["en"])
        assert sum(prior.values()) == pytest.approx(1.0)


def test_cyrillic_serbian_feedback_goes_to_the_cyrillic_class(language_model: LoadedModel):
    estimator = language_model.estimator
    learned = learn(estimator, ["Марија добро познаје радна упутства."], ["sr"])
    assert not np.allclose(_row(learned, "sr-Cyrl"), _row(estimator, "sr-Cyrl"), atol=1e-5)
    np.testing.assert_allclose(_row(learned, "sr-Latn"), _row(estimator, "sr-Latn"), atol=1e-5)


@pytest.mark.parametrize("label", ["xx", "sr-Latn", "", "EN"])
def test_a_label_the_model_does_not_have_is_refused(language_model: LoadedModel, label):
    with pytest.raises(ValueError, match="not one of the model's labels"):
        learn(language_model.estimator, ["Good morning", "God morgen"], ["en", label])
    with pytest.raises(ValueError, match="not one of the model's labels"):
        get_spec("language").learn(language_model.estimator, [{"text": "Hello"}], [label])


def test_a_text_given_again_with_the_same_label_counts_once(language_model: LoadedModel):
    estimator = language_model.estimator
    text = SERBIAN_TAKEN_FOR_CROATIAN
    once = learn(estimator, [text], ["sr"])
    repeated = learn(estimator, [text] * 50 + [text.replace(" ", "  ")], ["sr"] * 51)
    assert np.array_equal(
        repeated.named_steps["nb"].feature_log_prob_, once.named_steps["nb"].feature_log_prob_
    )
    both = learn(estimator, [text, text], ["sr", "hr"])
    assert not np.allclose(_row(both, "hr"), _row(once, "hr"), atol=1e-5)


def test_texts_and_labels_must_pair_up(language_model: LoadedModel):
    with pytest.raises(ValueError, match="2 texts but 1 labels"):
        learn(language_model.estimator, ["Good morning", "Hello"], ["en"])


def test_texts_without_letters_or_in_a_script_the_label_never_uses_are_skipped(
    language_model: LoadedModel,
):
    estimator = language_model.estimator
    learned = learn(estimator, ["12345 !!!", "Привет, как дела?", "こんにちは"], ["en"] * 3)
    assert np.array_equal(
        learned.named_steps["nb"].feature_log_prob_, estimator.named_steps["nb"].feature_log_prob_
    )


def test_spec_learn_takes_validated_inputs_and_gives_a_model_spec_predict_uses(
    language_model: LoadedModel,
):
    spec = get_spec("language")
    inputs = [spec.validate({"text": SERBIAN_TAKEN_FOR_CROATIAN}, max_chars=1000)]
    learned = spec.learn(language_model.estimator, inputs, ["sr"])
    before = spec.predict(language_model.estimator, inputs)[0]
    after = spec.predict(learned, inputs)[0]
    assert after["label"] in spec.labels
    assert after["confidence"] != before["confidence"]


def test_heldout_is_the_split_training_evaluated(language_model: LoadedModel, heldout):
    spec = get_spec("language")
    inputs, labels = heldout
    metrics = language_model.manifest.metrics

    assert len(inputs) == len(labels) == metrics["heldout_units"]
    assert set(labels) <= set(spec.labels)
    assert all(spec.validate(item, max_chars=100_000) == item for item in inputs)
    texts, truth = evaluate.test_sets(train.SEED)["held-out"]
    assert [item["text"] for item in inputs] == texts
    assert labels == truth
    predicted = [r["label"] for r in spec.predict(language_model.estimator, inputs)]
    accuracy = sum(p == t for p, t in zip(predicted, labels, strict=True)) / len(labels)
    assert round(accuracy, 4) == metrics["heldout_accuracy"]


def test_heldout_hands_out_fresh_lists():
    spec = get_spec("language")
    inputs, labels = spec.heldout()
    inputs[0]["text"] = "changed"
    labels.clear()
    again_inputs, again_labels = spec.heldout()
    assert again_inputs[0]["text"] != "changed"
    assert len(again_labels) == len(again_inputs) > 0
