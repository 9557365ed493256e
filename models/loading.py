"""A model ready to predict: its spec plus its hash-verified estimator and manifest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.artifacts import Manifest, load_estimator
from models.registry import ModelSpec, get_spec


# eq=False: comparing two loaded models would compare fitted estimators, never useful.
@dataclass(frozen=True, eq=False)
class LoadedModel:
    spec: ModelSpec
    manifest: Manifest
    estimator: Any

    @classmethod
    def load(cls, model_dir: Path, name: str, version: str | None = None) -> LoadedModel:
        """Load the current (or given) version of `name`.

        Raises UnknownModelName, ModelNotTrained or ArtifactIntegrityError (all
        ModelError): a worker that gets one should not consume messages for `name`.
        """
        spec = get_spec(name)
        estimator, manifest = load_estimator(Path(model_dir), name, version)
        return cls(spec=spec, manifest=manifest, estimator=estimator)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def version(self) -> str:
        return self.manifest.version

    def predict(self, inputs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """One result per (validated) input, in order, predicted as one batch."""
        return self.spec.predict(self.estimator, inputs)
