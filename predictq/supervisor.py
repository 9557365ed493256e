"""`predictq up`: the API and N workers as child processes of one command.

Children get the same settings through the environment, and a shared Prometheus
folder so the API's /metrics covers the workers too. A child that dies is restarted
(its unacked messages are redelivered or swept). SIGINT or SIGTERM stops the workers
first (each finishes and acks its batch), then the API.
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
MAX_RESTARTS = 5  # within RESTART_WINDOW_S, over all children
RESTART_WINDOW_S = 60.0


class Supervisor:
    def __init__(self, settings: Settings, workers: int) -> None:
        self.settings = settings
        self.workers = workers
        self.api: subprocess.Popen | None = None
        self.worker_procs: list[subprocess.Popen] = []
        self._stopping = False
        self._env: dict[str, str] = {}

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.settings.host in ("0.0.0.0", "") else self.settings.host
        return f"http://{host}:{self.settings.port}"

    def run(self) -> int:
        self._env = self._child_env()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        self.api = self._spawn("api")
        self.worker_procs = [self._spawn("worker") for _ in range(self.workers)]
        if self._wait_ready():
            click.echo(f"predictq is up: {self.url}  (API + {self.workers} worker(s); "
                       "Ctrl-C stops)")
        code = self._watch()
        self._stop_all()
        return code

    def _spawn(self, role: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "predictq", role], env=self._env)

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
        """Restart children that die until asked to stop; give up if they keep dying."""
        restarts: list[float] = []
        while not self._stopping:
            for i, proc in enumerate([self.api, *self.worker_procs]):
                if proc.poll() is None or self._stopping:
                    continue
                role = proc.args[-1]
                now = time.monotonic()
                restarts = [t for t in restarts if now - t < RESTART_WINDOW_S] + [now]
                if len(restarts) > MAX_RESTARTS:
                    click.echo(f"{role} keeps exiting ({proc.returncode}); stopping", err=True)
                    return 1
                click.echo(f"{role} (pid {proc.pid}) exited with {proc.returncode}; "
                           "restarting it", err=True)
                replacement = self._spawn(role)
                if i == 0:
                    self.api = replacement
                else:
                    self.worker_procs[i - 1] = replacement
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
