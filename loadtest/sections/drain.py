"""2. drain: how fast worker processes empty a pre-filled queue."""

from __future__ import annotations

import math
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
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
    rate: float  # N / (last - first updated_at)
    steady_rate: float  # jobs done after every worker consumed / the time from then
    submit_s: float
    drain_wall_s: float  # from starting the workers to seeing all done (incl. start-up)
    queue_type: str = ""  # PREDICTQ_QUEUE_TYPE when the cell set one (sections/queues.py)

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
               texts: Sequence[str], *, queue_type: str | None = None,
               after_fill: Callable[[str], None] | None = None) -> DrainCell:
    """One cell: fill a fresh queue, then start workers and time the drain.

    `queue_type` sets PREDICTQ_QUEUE_TYPE for the cell (default: the setting's own
    default); `after_fill(prefix)` runs once the queue is filled, before any worker
    starts (e.g. to check the queue's type on the broker)."""
    tag = f"drain-{broker}-b{batch}-w{workers}" + (f"-{queue_type}" if queue_type else "")
    data_dir = Path(tempfile.mkdtemp(prefix=tag + "-", dir=cfg.workdir))
    prefix = harness.unique_prefix(tag)
    extra = {"queue_type": queue_type} if queue_type else {}
    env = harness.child_env(data_dir, prefix=prefix, model_dir=cfg.model_dir,
                            broker_url=broker_url(cfg, broker), **extra)
    try:
        started = time.monotonic()
        ids = submit_in_process(env, texts)
        submit_s = time.monotonic() - started
        if after_fill is not None:
            after_fill(prefix)
        store = open_store_for(env)
        with Processes(data_dir / "logs") as procs, ConsumerWatch(env, workers) as watch:
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
                     steady_rate(stamps, watch.all_at), submit_s, wall, queue_type or "")
    kind = f" {queue_type:7}" if queue_type else ""
    print(f"  drain: {broker:9}{kind} {cell.mode:17} {workers} worker(s): "
          f"{cell.rate:,.0f} items/s, "
          f"{cell.steady_rate:,.0f}/s once all consumed (fill {submit_s:.1f} s, workers "
          f"started→all done {wall:.1f} s)", flush=True)
    return cell


class ConsumerWatch:
    """Notes when the queue first shows `workers` consumers, from a background thread.

    Workers start one after another (each loads the model first): until the last one
    consumes, fewer are draining. `all_at` (time.time(), None if never seen) lets the
    2-worker rate leave that ramp out.
    """

    def __init__(self, env: dict[str, str], workers: int) -> None:
        from predictq.messaging import Publisher

        self.publisher = Publisher(Settings.from_env(harness.settings_env(env)))
        self.workers = workers
        self.all_at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                (stats,) = self.publisher.stats(["text"])
                if stats.consumers >= self.workers:
                    self.all_at = time.time()
                    return
            except Exception:
                pass  # no answer yet: look again; the drain's own wait reports failures
            self._stop.wait(0.05)

    def __enter__(self) -> ConsumerWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.publisher.close()


def steady_rate(stamps: Sequence[float], since: float | None) -> float:
    """Jobs finished after `since` per second from `since` to the last; NaN when
    `since` is unknown or too few jobs (under a quarter) finished after it."""
    if since is None:
        return math.nan
    after = [t for t in stamps if t >= since]
    if len(after) < max(2, len(stamps) // 4):
        return math.nan
    return len(after) / (max(after) - since)


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


def render(cells: Sequence[DrainCell], limit: LimitResult | None, cfg: Config) -> str:
    batch = cfg.batch_size
    rows = []
    for c in cells:
        vs_single = ratio(c.rate, _cell(cells, c.broker, 1, c.workers).rate)
        vs_limit = ratio(c.rate, limit.rates[batch]) if limit else math.nan
        one = _cell(cells, c.broker, c.batch, 1)
        vs_one = ratio(c.rate, one.rate)
        vs_one_steady = ratio(c.steady_rate, one.rate)
        rows.append([c.broker, c.mode, str(c.workers), fmt(c.rate, "/s"),
                     fmt(c.steady_rate, "/s") if c.workers != 1 else "",
                     fmt(vs_single, "×") if c.batch != 1 else "",
                     fmt(100 * vs_limit, "%"),
                     f"{fmt(vs_one, '×')} ({fmt(vs_one_steady, '×')})" if c.workers != 1 else "",
                     f"{c.submit_s:.1f} s", f"{c.drain_wall_s:.1f} s"])
    header = ["broker", "mode", "workers", "drain items/s", "once all consume",
              "vs one-by-one", f"vs limit (batch {batch})", "2 vs 1 workers (once all)",
              "fill (in-process)", "workers start → all done"]
    return (f"{cells[0].n:,} real texts per cell, submitted in-process (store, then "
            "publish) into a fresh store and queue; then `predictq worker --batch-size B` "
            "process(es) start. Drain rate = N / (last − first `updated_at` of the done "
            "jobs), so process start-up is left out; the last column includes it. Two "
            "workers start one after the other, so \"once all consume\" counts only the "
            "jobs finished after the queue first showed 2 consumers, from that moment. The "
            "limit is one core's in-process rate, so 2-worker cells can pass 100%.\n\n"
            + table(header, rows, right=tuple(range(2, 10))) + "\n\n"
            + goals_table(goals(cells, limit, batch)))
