"""The locustfile's sensor windows are valid inputs, with or without the repository."""

from __future__ import annotations

import sys

import pytest

from loadtest.locustfile import sensor_events
from models.registry import get_spec


@pytest.mark.parametrize("repository", [True, False], ids=["checkout", "locust image"])
def test_sensor_windows_are_valid_events(monkeypatch, repository):
    if not repository:  # the compose locust container has the loadtest folder only
        for name in ("models.anomaly", "models.anomaly.data", "models.appliance",
                     "models.appliance.data"):
            monkeypatch.setitem(sys.modules, name, None)
    events = sensor_events.__wrapped__()
    assert set(events) == {"appliance", "anomaly"}
    for model, windows in events.items():
        assert len(windows) >= 10
        for window in windows:
            get_spec(model).validate(window, max_chars=1000)
