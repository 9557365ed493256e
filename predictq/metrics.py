"""Prometheus metrics shared by the API and the workers.

With `PROMETHEUS_MULTIPROC_DIR` set (as `predictq up` does) every process writes its
samples to that folder and `GET /metrics` adds them up, so one scrape of the API sees
the workers' completions and latencies too.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import REGISTRY

from predictq.jobs import Status

SUBMISSIONS = Counter(
    "predictq_submissions", "Submissions accepted (stored and published).", ["model"]
)
COMPLETIONS = Counter("predictq_completions", "Jobs that reached done.", ["model"])
FAILURES = Counter("predictq_failures", "Jobs that reached failed.", ["model"])
LATENCY = Histogram(
    "predictq_end_to_end_latency_seconds",
    "From acceptance by the API to the result being written.",
    ["model"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
DUPLICATES = Counter("predictq_duplicates_suppressed",
                     "Deliveries of jobs already final, acked without predicting again.")
REDELIVERIES = Counter("predictq_redeliveries",
                       "Messages the broker delivered again (a consumer died or requeued).")
RETRIES = Counter("predictq_retries", "Deliveries of jobs already attempted, predicted alone.")
DEAD_LETTERS = Counter("predictq_dead_lettered", "Messages moved to the dead-letter queue.")
REPUBLISHED = Counter("predictq_republished",
                      "Jobs the sweeper published again (never confirmed, or stuck).")
MODEL_RELOADS = Counter(
    "predictq_model_reloads",
    "Versions a worker switched to without a restart, by role (serve, shadow), and loads "
    "that failed (the previous version kept serving).", ["model", "outcome"])
SHADOW_PREDICTIONS = Counter("predictq_shadow_predictions",
                             "Inputs a shadow version also predicted.", ["model", "outcome"])
FEEDBACK = Counter("predictq_feedback", "Feedback labels received, by whether the served "
                   "answer was right.", ["model", "correct"])
LEARNED = Counter("predictq_learned_versions",
                  "Versions learned from feedback, by what became of them.",
                  ["model", "outcome"])


def record_deliveries(duplicates: int, retried: int, dead: int) -> None:
    DUPLICATES.inc(duplicates)
    RETRIES.inc(retried)
    DEAD_LETTERS.inc(dead)


def record_submissions(model: str, count: int) -> None:
    SUBMISSIONS.labels(model).inc(count)


def record_outcomes(outcomes: Iterable[tuple[str, Status, float]]) -> None:
    """Count (model, status, latency in seconds) outcomes, one counter update per
    model and status: each update of a multi-process metric costs a pid check."""
    done: collections.Counter[str] = collections.Counter()
    failed: collections.Counter[str] = collections.Counter()
    for model, status, latency_s in outcomes:
        (done if status is Status.DONE else failed)[model] += 1
        LATENCY.labels(model).observe(max(latency_s, 0.0))
    for model, n in done.items():
        COMPLETIONS.labels(model).inc(n)
    for model, n in failed.items():
        FAILURES.labels(model).inc(n)


def exposition(*extra_collectors: object) -> tuple[bytes, str]:
    """This process's metrics (or every process's) followed by the extra collectors'."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    extra = CollectorRegistry()
    for collector in extra_collectors:
        extra.register(collector)
    return generate_latest(registry) + generate_latest(extra), CONTENT_TYPE_LATEST
