"""One exception tree for everything `models` raises on purpose.

Callers (the API, the workers, the CLI) catch `ModelError` and translate it; anything
else escaping from `models` is a bug.
"""

from __future__ import annotations


class ModelError(Exception):
    """Root of every deliberate error raised by `models`."""


class UnknownModelName(ModelError):
    """No model is registered under that name."""


class InvalidModelInput(ModelError):
    """An input does not fit the model's schema; the message is meant for a person."""


class ModelNotTrained(ModelError):
    """The model has no artifact in the model directory yet: train it first."""
