"""The locustfile's sensor windows are valid inputs, with or without the repository, and
its thresholds, not locust's any-failure rule, set the exit code.

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


THRESHOLDS = """
import argparse, importlib.util, sys
from locust.env import Environment
spec = importlib.util.spec_from_file_location("locustfile", sys.argv[1])
locustfile = importlib.util.module_from_spec(spec)
spec.loader.exec_module(locustfile)
failures = int(sys.argv[2])
env = Environment(parsed_options=argparse.Namespace(max_fail_ratio=0.01, max_p95_ms=1000.0))
for i in range(1000):
    env.stats.log_request("POST", "POST /v1/predictions", 20, 50)
for i in range(failures):
    env.stats.log_error("POST", "POST /v1/predictions", "expected 202, got 0")
locustfile._check_thresholds(env)
print(env.process_exit_code)
"""


@pytest.mark.parametrize(("failures", "exit_code"), [(0, "0"), (1, "0"), (20, "1")])
def test_thresholds_set_the_exit_code(failures, exit_code):
    done = subprocess.run([sys.executable, "-c", THRESHOLDS, str(LOCUSTFILE), str(failures)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-1] == exit_code
