"""The `language` model's input schema and batch prediction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from models.errors import InvalidModelInput
from models.language import undetermined
from models.language.languages import name_of
from models.language.scoring import score
from models.language.text import normalise

FIELDS = ("text",)


def input_schema(*, max_chars: int) -> dict[str, Any]:
    """The JSON Schema (2020-12) of an input: the API validates every request with it and
    publishes it in the OpenAPI document (api/openapi.py); `validate` then normalises."""
    return {
        "type": "object",
        "title": "LanguageInput",
        "description": "One text to identify the language of.",
        "properties": {"text": {
            "type": "string", "minLength": 1, "maxLength": max_chars,
            "pattern": r"\S", "description": "Not only white space.",
            "examples": ["Jag tycker om att läsa böcker på kvällarna."]}},
        "required": ["text"],
        "additionalProperties": False,
    }


def validate(input: Any, *, max_chars: int) -> dict[str, Any]:
    """`{"text": <str>}` with the text normalised; InvalidModelInput otherwise."""
    if not isinstance(input, dict):
        raise InvalidModelInput('input must be an object like {"text": "..."}')
    extra = sorted(str(key) for key in input if key not in FIELDS)
    if extra:
        raise InvalidModelInput(
            f"input has unknown field(s) {', '.join(extra)}; the only field is text"
        )
    text = input.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InvalidModelInput("input.text must be a non-empty string")
    if len(text) > max_chars:
        raise InvalidModelInput(f"input.text is longer than {max_chars} characters")
    return {"text": normalise(text)}


def predict(estimator: Any, inputs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One result per input, in order, from a single vectorised pass over the batch."""
    if not inputs:
        return []
    # Normalising again is cheap and makes inputs that skipped validate() safe too.
    texts = [normalise(item["text"]) for item in inputs]
    # A text without letters is not scored (undetermined.py); scoring is row by row, so
    # leaving it out changes nothing for its neighbours in the batch.
    results = [undetermined.result() for _ in texts]
    scored = [i for i, text in enumerate(texts) if undetermined.has_letters(text)]
    scores = score(estimator, [texts[i] for i in scored])
    for i, label, confidence in zip(scored, scores.best, scores.confidence, strict=True):
        results[i] = {
            "label": label,
            "name": name_of(label),
            "confidence": min(1.0, max(0.0, float(confidence))),
        }
    return results
