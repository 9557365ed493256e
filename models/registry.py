"""The named models: what each is called, accepts, predicts, and how it is trained.

The API validates with `spec.validate`, the workers predict with `spec.predict` (via
`models.loading.LoadedModel`), the CLI trains with `spec.train`. Adding a model means
adding one entry to REGISTRY.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.anomaly import model as anomaly_model
from models.appliance import model as appliance_model
from models.appliance.classes import CODES as APPLIANCE_CODES
from models.errors import UnknownModelName
from models.language import model as language_model
from models.language.languages import NAMES as LANGUAGE_NAMES

if TYPE_CHECKING:
    from models.artifacts import Manifest

# progress(stage, done, total): called as each stage starts, with the number of stages
# already finished, and a last time with done == total; the CLI draws its bar from it.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str  # queue family: models of one family share a queue and its workers
    description: str
    validate: Callable[..., dict[str, Any]]  # (input, *, max_chars) -> normalised input
    # (*, max_chars) -> the input's JSON Schema: what the API checks every request against
    # and what the OpenAPI document shows; `validate` normalises what it lets through.
    input_schema: Callable[..., dict[str, Any]]
    predict: Callable[[Any, Sequence[dict[str, Any]]], list[dict[str, Any]]]
    train: Callable[[Path, Progress | None], Manifest]
    # The answers feedback may give (a result's "label"); empty: the model takes none.
    labels: tuple[str, ...] = ()
    # The model's own held-out set, rebuilt reproducibly: (validated inputs, true labels).
    # `predictq evaluate` and promotion score every version on it.
    heldout: Callable[[], tuple[list[dict[str, Any]], list[str]]] | None = None
    # Learning from feedback: (estimator, validated inputs, true labels) -> a new
    # estimator updated incrementally (the given one is left unchanged); None: cannot.
    learn: Callable[[Any, Sequence[dict[str, Any]], Sequence[str]], Any] | None = None


def _train_language(model_dir: Path, progress: Progress | None = None) -> Manifest:
    # Imported here so the API, which only validates, never loads scikit-learn.
    from models.language.train import train

    return train(model_dir, progress)


def _train_appliance(model_dir: Path, progress: Progress | None = None) -> Manifest:
    from models.appliance.train import train

    return train(model_dir, progress)


def _language_heldout() -> tuple[list[dict[str, Any]], list[str]]:
    from models.language.learn import heldout

    return heldout()


def _language_learn(
    estimator: Any, inputs: Sequence[dict[str, Any]], labels: Sequence[str]
) -> Any:
    from models.language.learn import learn

    return learn(estimator, [item["text"] for item in inputs], labels)


def _appliance_heldout() -> tuple[list[dict[str, Any]], list[str]]:
    from models.appliance.heldout import heldout

    return heldout()


def _train_anomaly(model_dir: Path, progress: Progress | None = None) -> Manifest:
    from models.anomaly.train import train

    return train(model_dir, progress)


REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="language",
            family="text",
            description=(
                "Language identification: naive Bayes over character and word n-grams "
                f"with script rules and calibrated confidence, {len(LANGUAGE_NAMES)} "
                "languages, trained on real text (UDHR, web/news sentences, word "
                "frequencies). Result: ISO 639-1 label, English name, confidence."
            ),
            validate=language_model.validate,
            input_schema=language_model.input_schema,
            predict=language_model.predict,
            train=_train_language,
            labels=tuple(sorted(LANGUAGE_NAMES)),
            heldout=_language_heldout,
            learn=_language_learn,
        ),
        ModelSpec(
            name="appliance",
            family="sensor",
            description=(
                "Appliance recognition from a window of power readings (4 interleaved "
                "channels): interval quantile features + extra trees, trained on ACSF1 "
                "(10 appliance categories). Result: ACSF1 class code, confidence, scores."
            ),
            validate=appliance_model.validate,
            input_schema=appliance_model.input_schema,
            predict=appliance_model.predict,
            train=_train_appliance,
            labels=APPLIANCE_CODES,
            heldout=_appliance_heldout,
        ),
        ModelSpec(
            name="anomaly",
            family="sensor",
            description=(
                "Anomaly scoring of a window of readings: distance of each subsequence to a "
                "library of normal ones, thresholded on normal data; trained on KDD-TSAD 135 "
                "and an MIT-BIH ECG excerpt. Result: score (>1 anomalous), anomalous, "
                "anomalous_points."
            ),
            validate=anomaly_model.validate,
            input_schema=anomaly_model.input_schema,
            predict=anomaly_model.predict,
            train=_train_anomaly,
        ),
    )
}


def get_spec(name: str) -> ModelSpec:
    """The spec registered as `name`; UnknownModelName if there is none."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        known = ", ".join(names())
        raise UnknownModelName(f"unknown model {name!r}; known models: {known}") from None


def names() -> list[str]:
    """Registered model names, sorted."""
    return sorted(REGISTRY)
