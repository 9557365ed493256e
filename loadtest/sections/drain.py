"""2. drain: how fast worker processes empty a pre-filled queue."""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from loadtest import harness
from loadtest.harness import Processes
from loadtest.sections.common import (
    BROKERS,
    MODEL,
    Config,
    broker_url,
    fetch_jobs,
    open_store_for,
    real_texts,
    wait_all_done,
)
from loadtest.sections.limit import LimitResult
from loadtest.stats import Goal, fmt, goals_table, ratio, table, window_rate
from predictq.jobs import Status
from predictq.settings import Settings


@dataclass
class DrainCell:
    broker: str
    batch: int
    workers: int
    n: int
    rate: float
    submit_s: float
    drain_wall_s: float  # from starting the workers to seeing all done (incl. start-up)

    @property
    def mode(self) -> str:
        return "one-by-one" if self.batch == 1 else f"micro-batch ({self.batch})"

def submit_in_process(env: dict[str, str], texts: Sequence[str]) -> list[str]:
    """Submit `texts` through the intake use case (store, then publish), 1,000 a call."""
    from predictq.services import Services

    settings = Settings.from_env(harness.settings_env(env))
    services = Services.build(settings)
    ids: list[str] = []
    try:
        step = settings.max_batch_inputs
        for lo in range(0, len(texts), step):
            body = {"model": MODEL, "inputs": [{"text": t} for t in texts[lo:lo + step]]}
            ids += [job.tracking_id for job in services.intake.submit_batch(body)]
    finally:
        services.close()
    store = open_store_for(env)
    try:  # a publish that failed would leave the job to the sweeper and skew the rate
        unpublished = store.unpublished(older_than=time.time())
    finally:
        store.close()
    if unpublished:
        raise RuntimeError(f"{len(unpublished)} jobs were stored but not published")
    return ids

def drain_cell(cfg: Config, broker: str, batch: int, workers: int,
               texts: Sequence[str]) -> DrainCell:
    """One cell: fill a fresh queue, then start workers and time the drain."""
    tag = f"drain-{broker}-b{batch}-w{workers}"
    data_dir = Path(tempfile.mkdtemp(prefix=tag + "-", dir=cfg.workdir))
    prefix = harness.unique_prefix(tag)
    env = harness.child_env(data_dir, prefix=prefix, model_dir=cfg.model_dir,
                            broker_url=broker_url(cfg, broker))
    try:
        started = time.monotonic()
        ids = submit_in_process(env, texts)
        submit_s = time.monotonic() - started
        store = open_store_for(env)
        with Processes(data_dir / "logs") as procs:
            started = time.monotonic()
            for i in range(workers):
                procs.spawn(f"worker{i}", ["worker", "--batch-size", str(batch)], env)
            wait_all_done(store, len(ids), procs, cfg.drain_timeout_s)
            wall = time.monotonic() - started
        stamps = [j.updated_at for j in fetch_jobs(store, ids) if j.status is Status.DONE]
        store.close()
    finally:
        if broker == "rabbitmq":
            harness.delete_queues(cfg.amqp_url, prefix)
    cell = DrainCell(broker, batch, workers, len(ids), window_rate(len(stamps), stamps),
                     submit_s, wall)
    print(f"  drain: {broker:9} {cell.mode:17} {workers} worker(s): {cell.rate:,.0f} items/s "
          f"(submit {submit_s:.1f} s, workers started→all done {wall:.1f} s)", flush=True)
    return cell

def measure(cfg: Config) -> list[DrainCell]:
    texts = real_texts(cfg.drain_n)
    return [drain_cell(cfg, broker, batch, workers, texts)
            for broker in BROKERS for batch in (1, cfg.batch_size) for workers in (1, 2)]

def _cell(cells: Sequence[DrainCell], broker: str, batch: int, workers: int) -> DrainCell:
    return next(c for c in cells if (c.broker, c.batch, c.workers) == (broker, batch, workers))

def goals(cells: Sequence[DrainCell], limit: LimitResult | None,
                batch: int) -> list[Goal]:
    """The issue's drain goals, for one worker process (the limit is one core)."""
    goals = []
    for broker in BROKERS:
        micro, single = _cell(cells, broker, batch, 1), _cell(cells, broker, 1, 1)
        if limit is not None:
            goals.append(Goal(f"{broker}: micro-batch drain vs limit (batch {batch})",
                              100 * ratio(micro.rate, limit.rates[batch]), 50, True, "%"))
        goals.append(Goal(f"{broker}: micro-batch vs one-by-one drain",
                          ratio(micro.rate, single.rate), 5, True, "×"))
    return goals

def render(cells: Sequence[DrainCell], limit: LimitResult | None,
                 cfg: Config) -> str:
    batch = cfg.batch_size
    rows = []
    for c in cells:
        vs_single = ratio(c.rate, _cell(cells, c.broker, 1, c.workers).rate)
        vs_one = ratio(c.rate, _cell(cells, c.broker, c.batch, 1).rate)
        vs_limit = ratio(c.rate, limit.rates[batch]) if limit else math.nan
        rows.append([c.broker, c.mode, str(c.workers), fmt(c.rate, "/s"),
                     fmt(vs_single, "×") if c.batch != 1 else "",
                     fmt(100 * vs_limit, "%"), fmt(vs_one, "×") if c.workers != 1 else "",
                     f"{c.submit_s:.1f} s", f"{c.drain_wall_s:.1f} s"])
    header = ["broker", "mode", "workers", "drain items/s", "vs one-by-one",
              f"vs limit (batch {batch})", "2 vs 1 workers", "fill (in-process)",
              "workers start → all done"]
    return (f"{cells[0].n:,} real texts per cell, submitted in-process (store, then "
            "publish) into a fresh store and queue; then `predictq worker --batch-size B` "
            "process(es) start. Rate = N / (last − first `updated_at` of the done jobs), "
            "so process start-up is excluded; the last column includes it. The limit is "
            "one core's in-process rate, so the 2-worker cells can exceed 100%.\n\n"
            + table(header, rows, right=(2, 3, 4, 5, 6, 7, 8)) + "\n\n"
            + goals_table(goals(cells, limit, batch)))
