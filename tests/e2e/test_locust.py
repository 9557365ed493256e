"""The documented locust command against `predictq up`: rows, failures, exit codes."""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_up import start_up
from tests.models.conftest import trained_sensor  # noqa: F401  (a session fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures("trained_sensor")]

LOCUSTFILE = Path(__file__).resolve().parents[2] / "loadtest" / "locustfile.py"


def locust(base: str, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--host", base, "--headless",
         "--csv", str(out), "--html", f"{out}.html", *extra],
        capture_output=True, text=True, timeout=120)


def rows(out: Path) -> dict[str, dict[str, str]]:
    with open(f"{out}_stats.csv", newline="") as f:
        return {row["Name"]: row for row in csv.DictReader(f)}


def test_locust_runs_text_and_sensor_users_and_thresholds_set_the_exit_code(tmp_path,
                                                                            model_dir):
    up, base = start_up(tmp_path, model_dir)
    try:
        ok = locust(base, tmp_path / "ok", "-u", "18", "-r", "18", "-t", "15s",
                    "--max-p95-ms", "20000")
        assert ok.returncode == 0, ok.stderr[-3000:]
        stats = rows(tmp_path / "ok")
        for name in ("submit→done", "submit→done (wait)", "submit→done appliance",
                     "submit→done anomaly", "POST /v1/predictions",
                     "POST /v1/predictions/batch", "GET /v1/predictions/<id>?wait="):
            assert int(stats[name]["Request Count"]) > 0, name
            assert stats[name]["Failure Count"] == "0", (name, stats[name])
        assert (tmp_path / "ok.html").stat().st_size > 0

        strict = locust(base, tmp_path / "strict", "Submitter", "-u", "4", "-r", "4",
                        "-t", "4s", "--max-p95-ms", "0.001")
        assert strict.returncode == 1, strict.stderr[-3000:]
        assert "thresholds failed: submit→done p95" in strict.stdout + strict.stderr
    finally:
        up.send_signal(signal.SIGINT)
        up.wait(30)
