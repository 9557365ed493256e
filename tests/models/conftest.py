"""The loaded `language` model (trained once per session by tests/conftest.py)."""

from __future__ import annotations

import pytest

from models.loading import LoadedModel
from tests.conftest import Trained


@pytest.fixture(scope="session")
def language_model(trained_language: Trained) -> LoadedModel:
    return LoadedModel.load(trained_language.model_dir, "language")
