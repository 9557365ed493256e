from __future__ import annotations

import unicodedata

import pytest

from models.errors import InvalidModelInput, ModelError
from models.registry import get_spec

validate = get_spec("language").validate


def test_valid_text_is_normalised() -> None:
    decomposed = unicodedata.normalize("NFD", "  Jag läser\n\tböcker  ")

    assert validate({"text": decomposed}, max_chars=100) == {"text": "Jag läser böcker"}


def test_text_of_exactly_max_chars_is_accepted() -> None:
    assert validate({"text": "a" * 10}, max_chars=10) == {"text": "a" * 10}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("just a string", "input must be an object"),
        (["text"], "input must be an object"),
        (None, "input must be an object"),
        ({}, "input.text must be a non-empty string"),
        ({"text": None}, "input.text must be a non-empty string"),
        ({"text": 42}, "input.text must be a non-empty string"),
        ({"text": ["hello"]}, "input.text must be a non-empty string"),
        ({"text": ""}, "input.text must be a non-empty string"),
        ({"text": " \n\t "}, "input.text must be a non-empty string"),
        ({"text": "a" * 11}, "input.text is longer than 10 characters"),
        ({"text": "hej", "lang": "sv", "extra": 1}, "unknown field.*extra, lang"),
    ],
)
def test_invalid_inputs_get_a_clear_message(value: object, message: str) -> None:
    with pytest.raises(InvalidModelInput, match=message) as caught:
        validate(value, max_chars=10)
    assert isinstance(caught.value, ModelError)
