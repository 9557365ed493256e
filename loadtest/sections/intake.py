"""3. intake: single and bulk submissions per second through `predictq api`, by wrk."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from loadtest import harness, wrk
from loadtest.harness import Processes
from loadtest.sections.common import (
    Config,
    batch_body,
    broker_url,
    open_store_for,
    real_texts,
    single_body,
    start_api,
)
from loadtest.stats import Goal, fmt, goals_table, table
from predictq.settings import Settings


@dataclass
class IntakeRun:
    broker: str
    kind: str  # "single" or "bulk"
    per_request: int
    result: wrk.WrkResult
    stored: int
    connections: int
    split: list[int] | None = None  # connections per API process, sampled mid-run
    queue_type: str = ""  # PREDICTQ_QUEUE_TYPE when the run set one (sections/queues.py)

    @property
    def items_per_s(self) -> float:
        return self.result.accepted * self.per_request / self.result.duration_s

    @property
    def lost(self) -> int:
        return max(0, self.result.accepted * self.per_request - self.stored)


def intake_runs(cfg: Config, broker: str, texts: Sequence[str], *,
                queue_type: str | None = None,
                after_runs: Callable[[str], None] | None = None) -> list[IntakeRun]:
    """Single then bulk wrk runs against one fresh API (no workers) on `broker`.

    `queue_type` sets PREDICTQ_QUEUE_TYPE for the API (default: the setting's own
    default); `after_runs(prefix)` runs after both wrk runs, while the queues exist."""
    tag = f"intake-{broker}" + (f"-{queue_type}" if queue_type else "")
    data_dir = Path(tempfile.mkdtemp(prefix=tag + "-", dir=cfg.workdir))
    prefix = harness.unique_prefix(tag)
    extra = {"queue_type": queue_type} if queue_type else {}
    env = harness.child_env(data_dir, prefix=prefix, model_dir=cfg.model_dir,
                            broker_url=broker_url(cfg, broker), port=harness.free_port(),
                            **extra)
    runs = []
    try:
        with Processes(data_dir / "logs") as procs:
            url = start_api(cfg, procs, env)
            store = open_store_for(env)
            # A bulk request takes ~1 s: a few seconds would time a handful of them.
            plans = [("single", 1, 16, cfg.intake_s, "/v1/predictions",
                      [single_body(t) for t in texts[:200]]),
                     ("bulk", 1000, 4, cfg.bulk_s, "/v1/predictions/batch",
                      [batch_body(texts[i * 1000:(i + 1) * 1000]) for i in range(4)])]
            for kind, per_request, conns, seconds, path, bodies in plans:
                before = sum(store.count_by_status().values())
                split: list[list[int] | None] = []
                sampler = threading.Timer(min(3.0, seconds / 2), _sample_split,
                                          (int(env["PREDICTQ_PORT"]), split))
                sampler.start()
                result, _ = wrk.run(url + path, bodies, connections=conns,
                                    duration_s=seconds, threads=2, workdir=data_dir)
                sampler.join()
                time.sleep(1.0)  # requests in flight when wrk stopped finish server-side
                stored = sum(store.count_by_status().values()) - before
                run = IntakeRun(broker, kind, per_request, result, stored, conns,
                                split[0] if split else None, queue_type or "")
                runs.append(run)
                qt = f" {queue_type:7}" if queue_type else ""
                print(f"  intake: {broker:9}{qt} {kind:6} {result.requests_per_s:,.0f} req/s, "
                      f"{run.items_per_s:,.0f} items/s, p50 {result.p50_ms:.1f} ms, "
                      f"p99 {result.p99_ms:.1f} ms, non-2xx {result.non_2xx}, "
                      f"202s {result.accepted:,}, stored {stored:,}, connections per "
                      f"process {_split(run.split)}", flush=True)
            store.close()
            if after_runs is not None:
                after_runs(prefix)
    finally:
        if broker == "rabbitmq":
            harness.delete_queues(cfg.amqp_url, prefix)
    return runs


def measure(cfg: Config) -> list[IntakeRun]:
    wrk.require_wrk()
    texts = real_texts(4000)
    return [run for broker in ("rabbitmq", "embedded") for run in intake_runs(cfg, broker, texts)]


def goals(runs: Sequence[IntakeRun]) -> list[Goal]:
    goals = []
    for r in runs:
        if r.broker != "rabbitmq":
            continue
        if r.kind == "single":
            goals += [Goal("single submissions/s (RabbitMQ)", r.result.requests_per_s,
                           1000, True, "/s"),
                      Goal("single submission p99 (RabbitMQ)", r.result.p99_ms, 50, False,
                           "ms")]
        else:
            goals.append(Goal("bulk items/s (RabbitMQ)", r.items_per_s, 10_000, True, "/s"))
    goals += [Goal(f"{r.broker} {r.kind}: non-2xx + socket errors", float(r.result.errors),
                   0, False) for r in runs]
    goals += [Goal(f"{r.broker} {r.kind}: accepted but not stored", float(r.lost), 0, False)
              for r in runs]
    return goals


def render(runs: Sequence[IntakeRun], cfg: Config) -> str:
    rows = [[r.broker, f"{r.kind} ({r.per_request:,}/request)", str(r.connections),
             _split(r.split),
             fmt(r.result.requests_per_s, "/s"), fmt(r.items_per_s, "/s"),
             fmt(r.result.p50_ms, "ms"), fmt(r.result.p99_ms, "ms"),
             f"{r.result.non_2xx + r.result.socket_errors}",
             f"{r.result.accepted * r.per_request:,}", f"{r.stored:,}"] for r in runs]
    header = ["broker", "request", "connections", "per API process", "req/s", "items/s",
              "p50", "p99", "non-2xx + socket errors", "accepted items (202s)",
              "jobs stored"]
    return (f"`predictq api` (gunicorn, default {Settings().api_workers} processes × "
            f"{Settings().api_threads} threads) on a fresh SQLite store, no workers "
            f"running; `wrk --latency -t2`, {cfg.intake_s} s (single) and {cfg.bulk_s} s "
            "(bulk), with a Lua script posting real texts and counting 202s. Jobs stored "
            "≥ items accepted means nothing "
            "accepted was lost (requests still in flight when wrk stops are stored but "
            "not counted by wrk). \"Per API process\" is how the gunicorn processes "
            "split wrk's connections (`ss`, mid-run): they accept from one shared "
            "socket, and a process holding most connections is bound by its own GIL."
            "\n\n"
            + table(header, rows, right=(2, 4, 5, 6, 7, 8, 9, 10)) + "\n\n"
            + goals_table(goals(runs)))


def _split(split: list[int] | None) -> str:
    return "?" if not split else " + ".join(str(n) for n in split)


def _sample_split(port: int, out: list[list[int] | None]) -> None:
    out.append(harness.connections_per_process(port))
