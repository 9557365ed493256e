"""The `appliance` held-out set: the official ACSF1 test split training evaluates on, as
validated sensor events."""

from __future__ import annotations

from models.loading import LoadedModel
from models.registry import get_spec


def test_heldout_is_the_test_split_training_evaluated(appliance_model: LoadedModel):
    spec = get_spec("appliance")
    inputs, labels = spec.heldout()
    metrics = appliance_model.manifest.metrics

    assert len(inputs) == len(labels) == metrics["test_series"]
    assert set(labels) <= set(spec.labels)
    assert all(spec.validate(item) == item for item in inputs)
    predicted = [r["label"] for r in spec.predict(appliance_model.estimator, inputs)]
    accuracy = sum(p == t for p, t in zip(predicted, labels, strict=True)) / len(labels)
    assert round(accuracy, 4) == metrics["test_accuracy"]


def test_heldout_hands_out_fresh_copies():
    spec = get_spec("appliance")
    inputs, labels = spec.heldout()
    inputs[0]["readings"][0] = 1e9
    labels[0] = "changed"
    again_inputs, again_labels = spec.heldout()
    assert again_inputs[0]["readings"][0] != 1e9
    assert again_labels[0] != "changed"

