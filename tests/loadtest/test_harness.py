"""The benchmark harness waits for every API process before it measures."""

from __future__ import annotations

import re

import pytest

from loadtest import harness

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_wait_api_returns_once_every_gunicorn_process_accepts(tmp_path, model_dir):
    port = harness.free_port()
    env = harness.child_env(tmp_path / "var", prefix="harness", model_dir=model_dir,
                            port=port, api_workers="3")
    with harness.Processes(tmp_path / "logs") as procs:
        procs.spawn("api", ["api"], env)
        url = f"http://127.0.0.1:{port}"
        harness.wait_api(url, procs, 3)
        log = (tmp_path / "logs" / "api.log").read_text()
        booted = set(re.findall(r"Booting worker with pid: (\d+)", log))
        ready = set(re.findall(r"Worker ready \(pid: (\d+)\)", log))
        assert len(ready) == 3 and ready == booted
        with pytest.raises(TimeoutError):
            harness.wait_api(url, procs, 4, timeout=2)
