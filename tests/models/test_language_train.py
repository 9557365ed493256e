from __future__ import annotations

import random

import numpy as np
import pytest

from models.language import calibration, train
from models.language.dataset import Unit
from models.language.pipeline import build_pipeline, compact
from models.language.scoring import CALIBRATION_ATTRIBUTE, score


def test_augment_puts_each_sentence_before_its_snippets_and_leaves_bags_alone() -> None:
    units = [
        Unit("x", "a" * 200, "eld"),
        Unit("y", "short text", "udhr"),
        Unit("z", "ord ett två tre fyra fem sex sju åtta nio tio elva tolv", "wordfreq"),
        Unit("w", "nasmiješeno lice strelica prema dolje sljedeći tjedan ove godine", "cldr"),
    ]

    texts, classes, kinds = train.augment(units, seed=0)

    assert texts[0] == units[0].text
    assert classes[: 1 + train.SNIPPETS_PER_UNIT] == ["x"] * (1 + train.SNIPPETS_PER_UNIT)
    assert "short text" in texts
    assert texts.count(units[2].text) == 1 and classes.count("z") == 1  # no bag snippets
    assert texts.count(units[3].text) == 1 and classes.count("w") == 1
    assert kinds == [{"z": "wordfreq", "w": "cldr"}.get(c, "") for c in classes]
    high = train.SNIPPET_CHARS[1]
    pieces = [t for t in texts if t not in {u.text for u in units}]
    assert pieces and all(0 < len(s) <= high for s in pieces)
    assert train.augment(units, seed=0) == (texts, classes, kinds)


def test_snippets_are_contiguous_pieces_of_whole_words() -> None:
    text = "Jag tycker om att läsa böcker på kvällarna när det regnar ute."

    pieces = train.snippets(text, random.Random(1), 5, (20, 40))

    assert len(pieces) == 5
    assert all(piece in text and len(piece) <= 40 for piece in pieces)
    # Cut mid-word, a piece would teach the word columns words no language has.
    words = set(text.split())
    assert all(set(piece.split()) <= words for piece in pieces)
    assert all(f" {piece} " in f" {text} " for piece in pieces)


def test_snippets_of_text_without_spaces_are_cut_at_characters() -> None:
    text = "昨日は友達と一緒に駅の近くで美味しいラーメンを食べました。"

    pieces = train.snippets(text, random.Random(1), 3, (12, 20))

    assert len(pieces) == 3 and all(piece in text and 12 <= len(piece) <= 20 for piece in pieces)


def test_word_bags_and_cldr_phrases_get_a_fixed_share_of_each_class() -> None:
    tokens = np.array([100.0, 300.0, 50.0, 50.0, 40.0, 10.0, 990.0])
    classes = ["a", "a", "a", "a", "a", "b", "b"]
    kinds = ["", "", "wordfreq", "wordfreq", "cldr", "", "wordfreq"]

    weights = train.bag_weights(tokens, classes, kinds)

    for cls in "ab":
        rows = [i for i, c in enumerate(classes) if c == cls]
        all_mass = sum(weights[i] * tokens[i] for i in rows)
        for kind in train.AUX_MASS:
            mass = sum(weights[i] * tokens[i] for i in rows if kinds[i] == kind)
            expected = train.AUX_MASS[kind] if any(kinds[i] == kind for i in rows) else 0.0
            assert mass / all_mass == pytest.approx(expected)
    assert weights[0] == weights[1] == weights[5] == 1.0


def test_build_pipeline_rejects_unknown_parameters() -> None:
    with pytest.raises(TypeError, match="colour"):
        build_pipeline(colour="blue")


def _tiny_model() -> object:
    texts = [
        "the cat sat on the mat",
        "the dog ate the bone",
        "a bird in the hand",
        "der Hund und die Katze",
        "das ist ein Haus",
        "ich habe einen Hund",
        "Мама мыла раму",
        "Кошка спит на диване",
    ] * 3
    labels = ["en", "en", "en", "de", "de", "de", "ru", "ru"] * 3
    pipeline = build_pipeline()
    pipeline.fit(texts, labels)
    setattr(pipeline, CALIBRATION_ATTRIBUTE, {"a": 0.5, "b": 0.5})
    return compact(pipeline)


def test_scores_are_probabilities_and_script_rules_are_exact() -> None:
    model = _tiny_model()

    scores = score(model, ["the house", "ein Haus", "Мама"])

    assert scores.labels == ["de", "en", "ru"]
    assert scores.proba.sum(axis=1) == pytest.approx([1.0, 1.0, 1.0])
    assert scores.best == ["en", "de", "ru"]
    # Cyrillic text cannot be English or German; Latin text cannot be Russian.
    assert scores.proba[2, :2].tolist() == [0.0, 0.0]
    assert scores.proba[0, 2] == 0.0


def test_compact_keeps_predictions_and_drops_counts() -> None:
    model = _tiny_model()
    nb = model.named_steps["nb"]

    assert nb.feature_log_prob_.dtype == np.float32
    assert nb.feature_count_.size == 0
    assert score(model, ["der Hund"]).best == ["de"]


def test_calibration_fit_recovers_a_known_temperature() -> None:
    rng = np.random.default_rng(0)
    classes, labels = ["p", "q"], ["p", "q"]
    tokens = rng.integers(5, 200, size=4000).astype(float)
    margin = rng.normal(0, 1, size=4000) * tokens  # grows with length, as naive Bayes does
    truth_p = rng.random(4000) < 1 / (1 + np.exp(-0.3 * margin / np.sqrt(tokens)))
    jll = np.stack([margin, np.zeros(4000)], axis=1)
    allowed = np.ones((4000, 2), dtype=bool)

    fitted = calibration.fit(jll, tokens, allowed, classes, ["p" if t else "q" for t in truth_p])

    assert fitted["b"] == 0.5
    assert fitted["a"] == pytest.approx(0.3, rel=0.15)
    proba = calibration.probabilities(jll, tokens, allowed, fitted["a"], fitted["b"])
    assert (proba.argmax(axis=1) == (jll.argmax(axis=1))).all()  # temperature keeps ranks
    assert calibration.fold(proba, classes, labels).shape == (4000, 2)


def test_char_ngrams_count_every_ngram_of_the_padded_text_per_text() -> None:
    from models.language.ngrams import char_ngrams

    texts = ["Hej då", "", "İstanbul", "ab"]

    batch = char_ngrams(texts, (1, 4), bits=16)

    padded = [len(f" {t.lower()} ") for t in texts]
    expected = [sum(max(0, n - k + 1) for k in range(1, 5)) for n in padded]
    assert batch.sum(axis=1).A1.tolist() == expected
    for i, text in enumerate(texts):  # a text's row does not depend on its neighbours
        assert (char_ngrams([text], (1, 4), bits=16) != batch[i]).nnz == 0
