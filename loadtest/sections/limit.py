"""1. limit: the raw `language` model's batch throughput in this process."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from loadtest.sections.common import (
    MODEL,
    Config,
    real_texts,
)
from loadtest.stats import fmt, table
from predictq.settings import Settings


@dataclass
class LimitResult:
    rates: dict[int, float]  # batch size → items/s
    items: int


def measure(cfg: Config) -> LimitResult:
    """Best-of-`repeat` items/s of `LoadedModel.predict` over real texts, per batch size."""
    from models.loading import LoadedModel
    from models.registry import get_spec

    model = LoadedModel.load(cfg.model_dir, MODEL)
    spec = get_spec(MODEL)
    items = [spec.validate({"text": t}, max_chars=Settings().max_text_chars)
             for t in real_texts(cfg.limit_texts)]
    model.predict(items[:8])  # warm-up: first-call imports and allocations
    rates = {}
    for size in (1, cfg.batch_size, 128):
        best = math.inf
        for _ in range(cfg.limit_repeat):
            started = time.perf_counter()
            for lo in range(0, len(items), size):
                model.predict(items[lo:lo + size])
            best = min(best, time.perf_counter() - started)
        rates[size] = len(items) / best
        print(f"  limit: batches of {size}: {rates[size]:,.0f} items/s", flush=True)
    return LimitResult(rates, len(items))


def render(r: LimitResult, cfg: Config) -> str:
    rows = [[f"{size}", fmt(rate, "/s")] for size, rate in r.rates.items()]
    return (f"`LoadedModel.predict` in this process (no queue, no store) over {r.items:,} "
            f"real texts, best of {cfg.limit_repeat} runs; the ceiling a worker process "
            "can reach on one core.\n\n" + table(["batch size", "items/s"], rows, right=(1,)))
