"""The loaded `language` model (trained once per session by tests/conftest.py), and the
sensor models, trained once per session into the same model dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.artifacts import Manifest, available, read_manifest
from models.loading import LoadedModel
from models.registry import get_spec
from tests.conftest import Trained

SENSOR_MODELS = ("appliance", "anomaly")


@pytest.fixture(scope="session")
def language_model(trained_language: Trained) -> LoadedModel:
    return LoadedModel.load(trained_language.model_dir, "language")


def ensure_sensor_models(model_dir: Path) -> dict[str, Manifest]:
    """Train `appliance` and `anomaly` into model_dir unless already there (~7 s)."""
    manifests = {}
    for name in SENSOR_MODELS:
        if available(model_dir, name):
            manifests[name] = read_manifest(model_dir, name)
        else:
            manifests[name] = get_spec(name).train(model_dir, None)
    return manifests


@pytest.fixture(scope="session")
def trained_sensor(trained_language: Trained) -> dict[str, Manifest]:
    """The real sensor models, trained once into the session's model dir (the one the
    root `settings` fixture uses), so workers in API tests can load them."""
    return ensure_sensor_models(trained_language.model_dir)


@pytest.fixture(scope="session")
def appliance_model(trained_sensor: dict[str, Manifest], trained_language: Trained
                    ) -> LoadedModel:
    return LoadedModel.load(trained_language.model_dir, "appliance")


@pytest.fixture(scope="session")
def anomaly_model(trained_sensor: dict[str, Manifest], trained_language: Trained
                  ) -> LoadedModel:
    return LoadedModel.load(trained_language.model_dir, "anomaly")
