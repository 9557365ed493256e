"""4. latency: submit→done at fixed arrival rates, API + 2 workers on RabbitMQ."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from loadtest import openloop
from loadtest.sections.common import (
    Config,
    Stack,
    outcomes,
    real_texts,
    running_stack,
    single_body,
)
from loadtest.stats import Goal, fmt, goals_table, percentile, table


@dataclass
class LatencyRow:
    rate: float
    achieved: float
    scheduled: int
    rejected: int
    late: int
    max_lag_ms: float
    p50: float
    p95: float
    p99: float
    max: float

    @property
    def failures(self) -> int:
        return self.rejected + self.late


def latency_row(stack: Stack, rate: float, cfg: Config, bodies: list[bytes]) -> LatencyRow:
    sends = openloop.run(stack.url + "/v1/predictions", bodies, rate, cfg.latency_s)
    out = outcomes(stack, sends, cfg.done_timeout_s)
    values = out.latencies_ms
    row = LatencyRow(rate, openloop.achieved_rate(sends), len(sends), out.rejected, out.late,
                     openloop.max_lag_ms(sends), percentile(values, 50),
                     percentile(values, 95), percentile(values, 99), percentile(values, 100))
    print(f"  latency: {rate:,.0f}/s (achieved {row.achieved:,.0f}/s): p50 {row.p50:.1f} ms, "
          f"p95 {row.p95:.1f} ms, p99 {row.p99:.1f} ms, max {row.max:.1f} ms, rejected "
          f"{out.rejected} {out.errors or ''}, late {out.late}, client lag ≤ "
          f"{row.max_lag_ms:.0f} ms", flush=True)
    return row


def measure(cfg: Config) -> list[LatencyRow]:
    bodies = [single_body(t).encode() for t in real_texts(500)]
    with running_stack(cfg, "latency", workers=2) as stack:
        openloop.run(stack.url + "/v1/predictions", bodies, 50, 1.0)  # warm-up
        time.sleep(1.0)
        return [latency_row(stack, rate, cfg, bodies) for rate in cfg.rates]


def goals(rows: Sequence[LatencyRow]) -> list[Goal]:
    """The 200/s latency goals, which count only if that rate was really offered and
    every submission got done: percentiles of the survivors alone flatter a stall."""
    goals = []
    for r in rows:
        if r.rate == 200:
            caveat = ""
            if r.failures:
                caveat = f"{r.failures:,} failed"
            elif r.achieved < 0.95 * r.rate:
                caveat = f"only {r.achieved:,.0f}/s sent"
            goals += [Goal("submit→done p50 at 200/s", r.p50, 25, False, "ms", caveat),
                      Goal("submit→done p99 at 200/s", r.p99, 100, False, "ms", caveat)]
    goals += [Goal(f"failures at {r.rate:,.0f}/s", float(r.failures), 0, False) for r in rows]
    return goals


def render(rows: Sequence[LatencyRow], cfg: Config) -> str:
    table_rows = [[fmt(r.rate, "/s"), fmt(r.achieved, "/s"), f"{r.scheduled:,}",
                   fmt(r.p50, "ms"), fmt(r.p95, "ms"), fmt(r.p99, "ms"), fmt(r.max, "ms"),
                   f"{r.rejected:,}", f"{r.late:,}", fmt(r.max_lag_ms, "ms")] for r in rows]
    header = ["arrival rate", "achieved send rate", "submissions", "p50", "p95", "p99",
              "max", "not accepted", "not done in time", "client lag (max)"]
    return (f"`predictq api` + 2 × `predictq worker` (default micro-batch) on RabbitMQ "
            f"and SQLite; an open-loop generator (send times fixed in advance, "
            f"{cfg.latency_s:.0f} s per rate, 64 client threads) posts single real "
            "texts; submit→done = the job's `updated_at` when done − the client's "
            f"`time.time()` just before sending. A job not done within "
            f"{cfg.done_timeout_s:.0f} s, or not accepted, is a failure. Client lag is "
            "how far behind its schedule the generator sent: every connection waiting on "
            "a slow answer, or the client short of CPU (it shares the 2 cores).\n\n"
            + table(header, table_rows, right=tuple(range(10))) + "\n\n"
            + goals_table(goals(rows)))
