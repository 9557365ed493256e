"""`predictq predict`: score a JSON-lines file with a model, without queue or store.

Every line is validated before anything is predicted, so a bad line stops the run
with its line number and no partial output.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from models.errors import InvalidModelInput, UnknownModelName
from models.loading import LoadedModel
from models.registry import get_spec
from predictq.errors import PredictqError
from predictq.settings import Settings
from predictq.store import open_store


def _serving(settings: Settings, model: str) -> str | None:
    """The version the deployment serves (the store's decision); None (the artifact
    folder's CURRENT) when the store has none or cannot be reached."""
    try:
        with open_store(settings.resolved_store_url) as store:
            decision = store.models.serving().get(model)
    except PredictqError:
        return None
    return decision.version if decision is not None else None


def score_lines(settings: Settings, model: str, lines: Iterable[str],
                batch_size: int = 256) -> Iterator[dict[str, Any]]:
    try:
        spec = get_spec(model)
    except UnknownModelName:
        raise ValueError(f"unknown model {model!r}") from None
    inputs = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            inputs.append(spec.validate(raw, max_chars=settings.max_text_chars))
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number}: not valid JSON ({exc})") from None
        except RecursionError:
            raise ValueError(f"line {number}: not valid JSON (nested too deeply)") from None
        except InvalidModelInput as exc:
            raise ValueError(f"line {number}: {exc}") from None
    loaded = LoadedModel.load(settings.resolved_model_dir, model, _serving(settings, model))
    for start in range(0, len(inputs), batch_size):
        yield from loaded.predict(inputs[start:start + batch_size])
