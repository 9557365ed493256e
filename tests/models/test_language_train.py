from __future__ import annotations

import random
from collections import Counter

import pytest

from models.language import train
from models.language.pipeline import build_pipeline


def test_augment_puts_each_unit_before_its_snippets() -> None:
    texts = ["a" * 200, "short text", "b" * 100]
    labels = ["x", "y", "z"]

    out_texts, out_labels = train.augment(texts, labels, seed=0)

    # Units too short for a snippet stay alone; the others are followed by theirs.
    assert out_texts[0] == texts[0]
    assert out_labels[: 1 + train.SNIPPETS_PER_UNIT] == ["x"] * (1 + train.SNIPPETS_PER_UNIT)
    assert "short text" in out_texts
    low, high = train.SNIPPET_CHARS
    snippets = [t for t in out_texts if t not in texts]
    assert snippets and all(low <= len(s) <= high for s in snippets)
    assert train.augment(texts, labels, seed=0) == (out_texts, out_labels)


def test_snippets_are_contiguous_pieces() -> None:
    text = "Jag tycker om att läsa böcker på kvällarna när det regnar ute."

    pieces = train.snippets(text, random.Random(1), 5, (20, 40))

    assert len(pieces) == 5
    assert all(piece in text for piece in pieces)


def test_split_is_stratified_seeded_and_keeps_document_order() -> None:
    texts = [f"{label}-{i}" for label in "abc" for i in range(10)]
    labels = [t[0] for t in texts]

    tr_t, tr_l, te_t, te_l = train.split(texts, labels, seed=0)

    assert Counter(te_l) == {"a": 2, "b": 2, "c": 2}
    assert set(tr_t).isdisjoint(te_t) and len(tr_t) + len(te_t) == len(texts)
    assert tr_t == sorted(tr_t, key=texts.index)
    assert train.split(texts, labels, seed=0) == (tr_t, tr_l, te_t, te_l)


def test_build_pipeline_rejects_unknown_parameters() -> None:
    with pytest.raises(TypeError, match="colour"):
        build_pipeline(colour="blue")


def test_pipeline_has_calibrated_probabilities() -> None:
    texts = [
        "the cat sat on the mat",
        "the dog ate the bone",
        "a bird in the hand",
        "der Hund und die Katze",
        "das ist ein Haus",
        "ich habe einen Hund",
    ] * 3
    labels = ["en", "en", "en", "de", "de", "de"] * 3

    pipeline = build_pipeline().fit(texts, labels)
    proba = pipeline.predict_proba(["the house", "ein Haus"])

    assert list(pipeline.classes_) == ["de", "en"]
    assert proba.shape == (2, 2)
    assert proba.sum(axis=1) == pytest.approx([1.0, 1.0])
