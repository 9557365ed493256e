from __future__ import annotations

import dataclasses

import pytest

from models.errors import ModelError, UnknownModelName
from models.language.languages import NAMES, SOURCES
from models.registry import REGISTRY, ModelSpec, get_spec, names


def test_language_is_registered_in_the_text_family() -> None:
    spec = get_spec("language")

    assert "language" in names()
    assert names() == sorted(REGISTRY)
    assert spec.name == "language"
    assert spec.family == "text"
    assert spec.description
    assert all(callable(f) for f in (spec.validate, spec.predict, spec.train))


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(UnknownModelName, match="language") as caught:
        get_spec("klingon")
    assert isinstance(caught.value, ModelError)
    with pytest.raises(UnknownModelName):
        get_spec(None)  # type: ignore[arg-type]


def test_spec_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_spec("language").name = "other"  # type: ignore[misc]
    assert dataclasses.is_dataclass(ModelSpec)


def test_every_trained_label_has_an_english_name() -> None:
    labels = {source.label for source in SOURCES}

    assert labels == set(NAMES)
    # The 38 languages of the seed model, which predictq must keep knowing.
    required = {
        "ar", "bg", "ca", "cs", "da", "de", "en", "es", "et", "eu", "fa", "fi", "fr",
        "he", "hi", "hr", "hu", "id", "it", "ja", "kk", "ko", "lt", "ms", "nl", "nb",
        "pl", "pt", "ro", "ru", "sk", "sl", "sr", "sv", "tr", "uk", "vi", "war",
    }  # fmt: skip
    assert len(required) == 38
    assert required <= labels
    serbian = {source.bcp47 for source in SOURCES if source.label == "sr"}
    assert serbian == {"sr-Cyrl", "sr-Latn"}
