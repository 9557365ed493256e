from __future__ import annotations

import subprocess
import sys

import pytest

from models.errors import InvalidModelInput
from models.registry import get_spec, names


@pytest.mark.parametrize("name", ["appliance", "anomaly"])
def test_sensor_models_are_registered_in_the_sensor_family(name: str) -> None:
    spec = get_spec(name)

    assert name in names()
    assert spec.family == "sensor"
    assert spec.description
    # The API passes max_chars to every model; sensor models ignore it.
    with pytest.raises(InvalidModelInput, match="sensor_id"):
        spec.validate({"readings": []}, max_chars=20000)


def test_validating_sensor_events_needs_neither_numpy_nor_scikit_learn() -> None:
    # The API validates through the registry; the sensor models' part of it stays light.
    code = ("import sys; from models.appliance import model as ap; "
            "from models.anomaly import model as an; "
            "event = {'sensor_id': 's', 'timestamp': 0, 'sampling_period_ms': 1}; "
            "an.validate({**event, 'readings': [0.0] * 300}); "
            "ap.validate({**event, 'readings': [0.0] * 1460}); "
            "print(sorted(m for m in ('numpy', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
