"""Running predictq as real processes for the benchmarks: environments, process groups,
readiness checks, RSS samples and RabbitMQ cleanup.

Every child starts in its own session (process group), so Ctrl-C in the terminal does
not reach it half-way and `Processes.stop_all()` can take down a gunicorn master with
its workers in one signal. Use `Processes` as a context manager: whatever happens, the
children are gone when the block ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO

PREFIX = "PREDICTQ_"
REPO = Path(__file__).resolve().parent.parent


def base_env() -> dict[str, str]:
    """This process's environment without PREDICTQ_* settings (a benchmark must not
    inherit a stray one), with this checkout first on PYTHONPATH, so children run the
    same code as the benchmark even if the venv's predictq points elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


def free_port() -> int:
    """A TCP port nobody listens on right now (never 8000 unless the OS says so)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unique_prefix(tag: str) -> str:
    """A queue prefix no other run on this broker uses."""
    return f"bench-{tag}-{uuid.uuid4().hex[:8]}"


def child_env(data_dir: Path, *, prefix: str, model_dir: Path, broker_url: str = "",
              port: int | None = None, **settings: str) -> dict[str, str]:
    """The environment of a predictq child: `base_env()` plus these settings."""
    env = base_env()
    metrics_dir = data_dir / "metrics"
    metrics_dir.mkdir(parents=True, exist_ok=True)
    env.update({
        "PREDICTQ_DATA_DIR": str(data_dir),
        "PREDICTQ_QUEUE_PREFIX": prefix,
        "PREDICTQ_MODEL_DIR": str(model_dir),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    })
    if broker_url:
        env["PREDICTQ_BROKER_URL"] = broker_url
    if port is not None:
        env["PREDICTQ_PORT"] = str(port)
    env.update({PREFIX + k.upper(): str(v) for k, v in settings.items()})
    return env


def settings_env(env: dict[str, str]) -> dict[str, str]:
    """Only the PREDICTQ_* part of `env`, for `Settings.from_env`."""
    return {k: v for k, v in env.items() if k.startswith(PREFIX)}


class Processes:
    """The children of one benchmark step; all stopped on exit, even on Ctrl-C."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[tuple[str, subprocess.Popen, IO[bytes]]] = []

    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        """Start `python -m predictq <args>` in a session of its own; output to a log."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop_all
        proc = subprocess.Popen([sys.executable, "-m", "predictq", *args], env=env,
                                stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append((name, proc, log))
        return proc

    def check_alive(self) -> None:
        """Raise if a child exited: a benchmark must not wait on a dead process."""
        for name, proc, _ in self.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; its log:\n"
                                   + self.log_tail(name))

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop_all(self, timeout: float = 10.0) -> None:
        """SIGTERM every group, then SIGKILL whatever is left after `timeout`."""
        for _, proc, _ in self.procs:
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for _, proc, log in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))
            _signal_group(proc, signal.SIGKILL)  # also any grandchild left in the group
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
            log.close()
        self.procs.clear()

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def get_json(url: str, timeout: float = 2.0) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.load(r)


def wait_until(ready: Callable[[], bool], what: str, procs: Processes, timeout: float = 60.0,
               interval: float = 0.2) -> None:
    """Poll `ready()` until it is true; raise naming `what` on timeout or a dead child."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs.check_alive()
        with contextlib.suppress(OSError, ValueError, KeyError):
            if ready():
                return
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s")


def wait_api(base_url: str, procs: Processes, processes: int, timeout: float = 60.0,
             name: str = "api") -> None:
    """Until GET /healthz answers 200 (store and broker reachable) and each of the API's
    `processes` gunicorn processes has logged that it accepts connections.

    /healthz answers as soon as one process is up. A client that opens its connections
    while another is still loading the app gives them all to the first, for as long as
    they live: intake measured so was bound by one process's GIL.
    """
    wait_until(lambda: get_json(base_url + "/healthz")["status"] == "ok",
               f"the API at {base_url}", procs, timeout)
    log = procs.log_dir / f"{name}.log"
    wait_until(lambda: log.read_text(errors="replace").count("Worker ready") >= processes,
               f"{processes} API processes", procs, timeout, interval=0.05)


def wait_consumers(base_url: str, prefix: str, count: int, procs: Processes,
                   timeout: float = 60.0) -> None:
    """Until GET /v1/queue shows `count` consumers on `<prefix>.text`."""
    def ready() -> bool:
        queues = get_json(base_url + "/v1/queue")["queues"]
        return any(q["queue"] == f"{prefix}.text" and q["consumers"] >= count
                   for q in queues)

    wait_until(ready, f"{count} worker(s) on {prefix}.text", procs, timeout)


def rss_kib(pid: int) -> int:
    """Resident set size of `pid` in KiB, from /proc/<pid>/status (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def delete_queues(amqp_url: str, prefix: str) -> None:
    """Remove the queues and exchange a run created on RabbitMQ; warn, never raise.

    Every queue predictq declares under `prefix` (`topology.all_queues`): a worker
    declares the stream partitions and roster too, which would otherwise stay behind
    (on quorum queues, a Raft member each, for good)."""
    from kombu import Connection

    from predictq import topology
    from predictq.settings import Settings

    names = [q.name for q in topology.all_queues(Settings().replace(queue_prefix=prefix))]
    try:
        with Connection(amqp_url, connect_timeout=5) as conn:
            channel = conn.channel()
            for name in names:
                channel.queue_delete(name)
            channel.exchange_delete(prefix)
    except Exception as exc:  # cleanup must not hide the result
        print(f"warning: could not delete queues {prefix}.*: {exc}", file=sys.stderr)


def amqp_reachable(amqp_url: str) -> str | None:
    """None if RabbitMQ answers at `amqp_url`, else the reason."""
    from kombu import Connection

    try:
        with Connection(amqp_url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
    except Exception as exc:
        return str(exc)
    return None


def connections_per_process(port: int) -> list[int] | None:
    """Established connections on `port` per process that accepted them, most first, as
    `ss -tnp` reports them; None where `ss` is missing or fails.

    gunicorn's processes accept from one shared socket, so a client that opens all its
    keep-alive connections at once may land them unevenly; this shows how they fell."""
    try:
        out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                             capture_output=True, text=True, timeout=5, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    counts: dict[str, int] = {}
    for line in out.splitlines():
        for pid in re.findall(r"pid=(\d+)", line)[:1]:
            counts[pid] = counts.get(pid, 0) + 1
    return sorted(counts.values(), reverse=True)
