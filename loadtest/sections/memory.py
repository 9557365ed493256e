"""5. memory: a worker's resident set over a steady run."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from loadtest import harness, openloop
from loadtest.sections.common import (
    Config,
    outcomes,
    real_texts,
    running_stack,
    single_body,
)
from loadtest.stats import Goal, fmt, goals_table, percentile, table


@dataclass
class MemoryResult:
    minutes: float
    rate: float
    samples: list[tuple[float, int]]  # (seconds since start, RSS KiB)
    warmup_s: float
    achieved: float
    failures: int
    p50_ms: float  # submit→done over the whole run, 1 worker
    p99_ms: float

    def _after_warmup(self) -> list[int]:
        return [kib for t, kib in self.samples if t >= self.warmup_s] or [self.samples[-1][1]]

    @property
    def start_mib(self) -> float:
        return self._after_warmup()[0] / 1024

    @property
    def end_mib(self) -> float:
        return self.samples[-1][1] / 1024

    @property
    def max_mib(self) -> float:
        return max(kib for _, kib in self.samples) / 1024

    @property
    def growth_pct(self) -> float:
        return 100 * (self.end_mib - self.start_mib) / self.start_mib


def sample_rss(pid: int, interval_s: float, stop: threading.Event,
               out: list[tuple[float, int]]) -> None:
    started = time.monotonic()
    while True:
        out.append((time.monotonic() - started, harness.rss_kib(pid)))
        if stop.wait(interval_s):
            out.append((time.monotonic() - started, harness.rss_kib(pid)))
            return


def measure(cfg: Config) -> MemoryResult:
    duration = cfg.memory_minutes * 60
    interval = min(15.0, duration / 12)
    bodies = [single_body(t).encode() for t in real_texts(500)]
    samples: list[tuple[float, int]] = []
    stop = threading.Event()
    with running_stack(cfg, "memory", workers=1) as stack:
        sampler = threading.Thread(target=sample_rss,
                                   args=(stack.workers[0].pid, interval, stop, samples))
        sampler.start()
        try:
            sends = openloop.run(stack.url + "/v1/predictions", bodies, cfg.memory_rate,
                                 duration)
        finally:
            stop.set()
            sampler.join()
        out = outcomes(stack, sends, cfg.done_timeout_s)
    failures = out.failures
    result = MemoryResult(cfg.memory_minutes, cfg.memory_rate, samples,
                          warmup_s=min(60.0, duration / 6),
                          achieved=openloop.achieved_rate(sends), failures=failures,
                          p50_ms=percentile(out.latencies_ms, 50),
                          p99_ms=percentile(out.latencies_ms, 99))
    print(f"  memory: worker RSS start {result.start_mib:.1f} MiB, end {result.end_mib:.1f} "
          f"MiB, max {result.max_mib:.1f} MiB ({result.growth_pct:+.1f}%), "
          f"{len(sends):,} submissions, failures {failures}, submit→done p50 "
          f"{result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms", flush=True)
    return result


def goals(r: MemoryResult) -> list[Goal]:
    """Flat is this benchmark's reading of the issue's "stays flat": at most 10% growth."""
    return [Goal("worker RSS growth over the run", r.growth_pct, 10, False, "%"),
            Goal("failures under the memory run's load", float(r.failures), 0, False)]


def render(r: MemoryResult, cfg: Config) -> str:
    rows = [[f"{r.minutes:g} min", fmt(r.rate, "/s"), fmt(r.achieved, "/s"),
             fmt(r.start_mib, "MiB"), fmt(r.end_mib, "MiB"), fmt(r.max_mib, "MiB"),
             f"{r.growth_pct:+.1f}%", str(r.failures), fmt(r.p50_ms, "ms"),
             fmt(r.p99_ms, "ms")]]
    header = ["duration", "load", "achieved", "RSS start (after warm-up)", "RSS end",
              "RSS max", "growth", "failures", "submit→done p50", "p99"]
    samples = ", ".join(f"{t:.0f} s {kib / 1024:.1f}" for t, kib in r.samples)
    return (f"`predictq api` + 1 × `predictq worker` on RabbitMQ, open-loop single "
            f"submissions at {r.rate:,.0f}/s; the worker's VmRSS from /proc every "
            f"~{min(15.0, r.minutes * 5):.0f} s. Start is the first sample after "
            f"{r.warmup_s:.0f} s of warm-up. Flat means grew by at most 10%. The "
            "latencies are a by-product: one worker, the whole run.\n\n"
            + table(header, rows, right=tuple(range(10))) + "\n\n"
            + f"Samples (s, MiB): {samples}.\n\n" + goals_table(goals(r)))
