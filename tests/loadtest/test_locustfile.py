"""The locustfile's sensor windows are valid inputs, with or without the repository.

In a subprocess: importing locust monkey-patches the standard library with gevent, which
would turn every later test's threads into greenlets.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

LOCUSTFILE = Path(__file__).resolve().parents[2] / "loadtest" / "locustfile.py"

CHECK = """
import importlib.util, sys
from models.registry import get_spec
specs = {name: get_spec(name) for name in ("appliance", "anomaly")}
if sys.argv[2] == "locust image":  # the compose container has the loadtest folder only
    for name in ("models.anomaly", "models.anomaly.data", "models.appliance",
                 "models.appliance.data"):
        sys.modules[name] = None
spec = importlib.util.spec_from_file_location("locustfile", sys.argv[1])
locustfile = importlib.util.module_from_spec(spec)
spec.loader.exec_module(locustfile)
events = locustfile.sensor_events()
assert set(events) == {"appliance", "anomaly"}, events.keys()
for model, windows in events.items():
    assert len(windows) >= 10, (model, len(windows))
    for window in windows:
        specs[model].validate(window, max_chars=1000)
same = events["appliance"][0]["readings"][:1024] == events["anomaly"][0]["readings"]
print("ok", "synthetic" if same else "real")
"""


@pytest.mark.parametrize(("where", "windows"), [("checkout", "real"),
                                               ("locust image", "synthetic")])
def test_sensor_windows_are_valid_events(where, windows):
    done = subprocess.run([sys.executable, "-c", CHECK, str(LOCUSTFILE), where],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["ok", windows]
