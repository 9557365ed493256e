"""On the embedded default: a worker killed with SIGKILL mid-stream under `predictq up`
is restarted, and the jobs it had claimed are swept back into the queue: none is lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from predictq.jobs import Job, Status
from predictq.services import Services
from predictq.settings import Settings
from tests.e2e.test_up import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_kill_9_of_a_worker_loses_nothing(tmp_path: Path, model_dir: Path):
    port = free_port()
    env = {**os.environ, "PREDICTQ_DATA_DIR": str(tmp_path / "var"),
           "PREDICTQ_MODEL_DIR": str(model_dir), "PREDICTQ_PORT": str(port),
           "PREDICTQ_SWEEP_AFTER_S": "2", "PREDICTQ_SWEEP_INTERVAL_S": "1",
           "PREDICTQ_BATCH_SIZE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "predictq", "up", "--workers", "1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    settings = Settings.from_env(env)
    services = Services.build(settings)
    try:
        for line in proc.stdout:
            if "predictq is up" in line:
                break
        jobs = [Job(model="language", input={"text": f"Dette er setning nummer {i}."})
                for i in range(300)]
        services.store.create(jobs)
        services.publisher.publish(jobs, "text")
        services.store.mark_published([j.tracking_id for j in jobs])

        def done() -> int:
            return services.store.count_by_status()[Status.DONE]

        while done() < 30:
            time.sleep(0.01)
        beats = list((settings.queue_dir / "consumers").glob("*.json"))
        pid = json.loads(beats[0].read_text())["pid"]
        os.kill(pid, signal.SIGKILL)
        killed_at = done()
        deadline = time.monotonic() + 60
        while done() < len(jobs) and time.monotonic() < deadline:
            time.sleep(0.2)
        counts = services.store.count_by_status()
        assert counts[Status.DONE] == len(jobs), counts
        assert killed_at < len(jobs)
    finally:
        services.close()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert "restarting it" in out, out
