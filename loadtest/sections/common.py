"""What the sections share: the run's configuration, real inputs, reading the
store, and starting the API (with workers) as real processes."""

from __future__ import annotations

import contextlib
import json
import os
import random
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from loadtest import harness, openloop
from loadtest.harness import Processes
from predictq.jobs import Job, Status
from predictq.settings import Settings
from predictq.store import Store, open_store

DEFAULT_AMQP = os.environ.get("PREDICTQ_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
BROKERS = ("embedded", "rabbitmq")
MODEL = "language"


@dataclass
class Config:
    """What one run measures and how big; `--quick` shrinks every size."""

    sections: tuple[str, ...]
    amqp_url: str
    model_dir: Path
    workdir: Path
    command: str
    quick: bool = False
    limit_texts: int = 2048
    limit_repeat: int = 3
    drain_n: int = 5_000
    drain_timeout_s: float = 600.0
    intake_s: int = 10
    rates: tuple[float, ...] = (50.0, 200.0, 500.0)
    latency_s: float = 20.0
    done_timeout_s: float = 30.0
    memory_minutes: float = 10.0
    memory_rate: float = 200.0
    # The `queues` section (sections/queues.py): RabbitMQ queue types side by side.
    queue_types: tuple[str, ...] = ("classic", "quorum")
    queue_rounds: int = 2
    queue_cells: tuple[str, ...] = ("drain", "intake")
    rabbit_cluster: bool = False  # measure on a throwaway 3-node cluster (drain only)

    @property
    def bulk_s(self) -> int:
        """wrk duration for bulk requests: at least 10 s, as one takes about a second."""
        return max(self.intake_s, 10)

    @property
    def batch_size(self) -> int:
        """The worker default micro-batch size (PREDICTQ_BATCH_SIZE's default)."""
        return Settings().batch_size


def real_texts(n: int, seed: int = 6) -> list[str]:
    """`n` UDHR sentences of mixed languages (the corpus is in language order, so it is
    shuffled with a fixed seed), repeated if the corpus has fewer."""
    from models.language import corpus

    texts, _ = corpus.load()
    picked = random.Random(seed).sample(texts, min(n, len(texts)))
    return [picked[i % len(picked)] for i in range(n)]


def single_body(text: str) -> str:
    return json.dumps({"model": MODEL, "input": {"text": text}}, ensure_ascii=False)


def batch_body(texts: Sequence[str]) -> str:
    return json.dumps({"model": MODEL, "inputs": [{"text": t} for t in texts]},
                      ensure_ascii=False)


def broker_url(cfg: Config, broker: str) -> str:
    return cfg.amqp_url if broker == "rabbitmq" else ""


def open_store_for(env: dict[str, str]) -> Store:
    """The store the children configured by `env` use, opened in this process."""
    return open_store(Settings.from_env(harness.settings_env(env)).resolved_store_url)


def fetch_jobs(store: Store, ids: Sequence[str]) -> list[Job]:
    """The jobs with these ids, read 500 at a time."""
    jobs: list[Job] = []
    for lo in range(0, len(ids), 500):
        jobs += store.get_many(ids[lo:lo + 500])
    return jobs


def wait_all_done(store: Store, n: int, procs: Processes, timeout_s: float) -> None:
    """Poll the store until `n` jobs are done; raise on a failed job, a dead worker or
    a timeout, with the counts."""
    deadline = time.monotonic() + timeout_s
    while True:
        counts = store.count_by_status()
        if counts[Status.FAILED]:
            raise RuntimeError(f"{counts[Status.FAILED]} job(s) failed: {counts}")
        if counts[Status.DONE] >= n:
            return
        procs.check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {counts[Status.DONE]} of {n} done after "
                               f"{timeout_s:.0f} s: {dict(counts)}")
        time.sleep(0.25)


def start_api(cfg: Config, procs: Processes, env: dict[str, str]) -> str:
    """Start `predictq api` with `env`; return its URL once /healthz says ok."""
    url = f"http://127.0.0.1:{env['PREDICTQ_PORT']}"
    procs.spawn("api", ["api"], env)
    harness.wait_api(url, procs, Settings.from_env(harness.settings_env(env)).api_workers)
    return url


@dataclass
class Stack:
    """`predictq api` + workers on RabbitMQ, with a store handle for reading results."""

    url: str
    env: dict[str, str]
    procs: Processes
    store: Store
    workers: list[subprocess.Popen] = field(default_factory=list)


@contextlib.contextmanager
def running_stack(cfg: Config, tag: str, workers: int) -> Iterator[Stack]:
    """`predictq api` + `workers` × `predictq worker` on RabbitMQ and a fresh SQLite
    store, ready (every worker consuming); on exit the processes stop, then the queues
    are deleted."""
    data_dir = Path(tempfile.mkdtemp(prefix=tag + "-", dir=cfg.workdir))
    prefix = harness.unique_prefix(tag)
    env = harness.child_env(data_dir, prefix=prefix, model_dir=cfg.model_dir,
                            broker_url=cfg.amqp_url, port=harness.free_port())
    try:
        with Processes(data_dir / "logs") as procs:
            url = start_api(cfg, procs, env)
            spawned = [procs.spawn(f"worker{i}", ["worker"], env) for i in range(workers)]
            harness.wait_consumers(url, prefix, workers, procs)
            store = open_store_for(env)
            try:
                yield Stack(url, env, procs, store, spawned)
            finally:
                store.close()
    finally:
        harness.delete_queues(cfg.amqp_url, prefix)


@dataclass
class Outcomes:
    """What became of an open-loop run's submissions."""

    latencies_ms: list[float]  # submit→done of the jobs done in time
    rejected: int  # no 202 (an error status, a timeout, a refused connection)
    late: int  # accepted, but not done (or failed) within the timeout of its send
    errors: dict[str, int]  # why submissions were rejected, with counts

    @property
    def failures(self) -> int:
        return self.rejected + self.late


def outcomes(stack: Stack, sends: Sequence[openloop.Send], timeout_s: float) -> Outcomes:
    """Wait up to `timeout_s` for the accepted jobs to finish, then classify every send:
    done in time (with its submit→done latency), rejected, or late."""
    accepted = [s for s in sends if s.accepted]
    ids = [s.tracking_id for s in accepted]
    deadline = time.monotonic() + timeout_s
    while True:
        jobs = {j.tracking_id: j for j in fetch_jobs(stack.store, ids)}
        finished = len(jobs) == len(ids) and all(j.status.is_final for j in jobs.values())
        if finished or time.monotonic() > deadline:
            break
        stack.procs.check_alive()
        time.sleep(0.5)
    values = []
    for s in accepted:
        job = jobs.get(s.tracking_id)
        if job is not None and job.status is Status.DONE and job.updated_at - s.sent <= timeout_s:
            values.append((job.updated_at - s.sent) * 1000)
    errors: dict[str, int] = {}
    for s in sends:
        if not s.accepted:
            why = s.error.split("(")[0] if s.error else f"HTTP {s.status}"
            errors[why] = errors.get(why, 0) + 1
    return Outcomes(values, len(sends) - len(accepted), len(accepted) - len(values), errors)
