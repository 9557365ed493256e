"""`predictq up`: the API and N workers as child processes of one command.

Children get the same settings through the environment, and a shared Prometheus
folder so the API's /metrics covers the workers too. SIGINT or SIGTERM stops the
workers first (each finishes and acks its batch), then the API.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

import click

from predictq.settings import Settings

STOP_TIMEOUT_S = 15.0


class Supervisor:
    def __init__(self, settings: Settings, workers: int) -> None:
        self.settings = settings
        self.workers = workers
        self.api: subprocess.Popen | None = None
        self.worker_procs: list[subprocess.Popen] = []
        self._stopping = False

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.settings.host in ("0.0.0.0", "") else self.settings.host
        return f"http://{host}:{self.settings.port}"

    def run(self) -> int:
        env = self._child_env()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        cmd = [sys.executable, "-m", "predictq"]
        self.api = subprocess.Popen([*cmd, "api"], env=env)
        self.worker_procs = [subprocess.Popen([*cmd, "worker"], env=env)
                             for _ in range(self.workers)]
        if self._wait_ready():
            click.echo(f"predictq is up: {self.url}  (API + {self.workers} worker(s); "
                       "Ctrl-C stops)", err=False)
        code = self._watch()
        self._stop_all()
        return code

    def _child_env(self) -> dict[str, str]:
        metrics_dir = self.settings.data_dir / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)  # counters restart with the service
        metrics_dir.mkdir(parents=True)
        env = dict(os.environ)
        env.update(self.settings.as_env())
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir.resolve())
        return env

    def _wait_ready(self, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._stopping:
            if self.api.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(self.url + "/v1/queue", timeout=2) as r:
                    queues = json.load(r)["queues"]
                # Ready means every worker has loaded its models and is consuming.
                if all(q["consumers"] >= self.workers for q in queues):
                    return True
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.2)
        return False

    def _watch(self) -> int:
        """Block until asked to stop or a child dies unexpectedly."""
        while not self._stopping:
            for proc in [self.api, *self.worker_procs]:
                if proc.poll() is not None:
                    click.echo(f"process {proc.args[-1]} (pid {proc.pid}) exited with "
                               f"{proc.returncode}; stopping", err=True)
                    return 1
            time.sleep(0.2)
        return 0

    def _on_signal(self, signum: int, frame: object) -> None:
        self._stopping = True

    def _stop_all(self) -> None:
        # Workers first, so nothing is left half-processed when the API goes away.
        for group in (self.worker_procs, [self.api]):
            for proc in group:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT_S
            for proc in group:
                try:
                    proc.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        click.echo("predictq stopped")
