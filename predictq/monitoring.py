"""What `GET /v1/queue`, `GET /v1/models`, `/healthz` and `predictq status` report."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from prometheus_client.core import GaugeMetricFamily

from models.artifacts import available, read_manifest
from models.errors import ModelError
from models.registry import REGISTRY
from predictq import presence
from predictq.errors import PredictqError
from predictq.jobs import Status
from predictq.messaging import DEAD_LETTER_FAMILY, FAMILIES
from predictq.services import Services

RATE_WINDOW_S = 60.0


def queue_report(services: Services) -> list[dict[str, Any]]:
    """Per queue: depth and consumers from the broker; rates and oldest age from the store."""
    store = services.store
    now = time.time()
    since = now - RATE_WINDOW_S
    models_by_family: dict[str, list[str]] = defaultdict(list)
    for spec in REGISTRY.values():
        models_by_family[spec.family].append(spec.name)
    report = []
    models = model_health(services)
    for stats, family in zip(services.publisher.stats(FAMILIES), FAMILIES, strict=True):
        names = models_by_family.get(family, [])
        oldest = [t for name in names
                  if (t := store.oldest_created_at(Status.QUEUED, name)) is not None]
        created = sum(store.count_created_since(since, name) for name in names)
        finished = sum(store.count_finished_since(since, name) for name in names)
        report.append({
            "queue": stats.name,
            "family": family,
            "models": names,
            "depth": stats.depth,
            "consumers": stats.consumers,
            "publish_rate": round(created / RATE_WINDOW_S, 3),
            "ack_rate": round(finished / RATE_WINDOW_S, 3),
            "oldest_age_seconds": round(now - min(oldest), 3) if oldest else None,
            # Models of this queue that cannot be served (no artifact here, or a worker
            # that cannot load one): their messages wait, and the API refuses new ones.
            "unavailable_models": {name: models[name]["error"] for name in names
                                   if not models[name]["ok"]},
        })
    return report


def stream_report(services: Services) -> dict[str, Any]:
    """The sensor-stream partitions: waiting wake-ups per partition, stream workers,
    and how far behind the workers are (batches accepted but not applied)."""
    partitions = services.publisher.partition_stats()
    sensors = services.store.sensors.list_sensors(limit=100_000)
    return {
        "partitions": [{"queue": p.name, "depth": p.depth} for p in partitions],
        "depth": sum(p.depth for p in partitions),
        "consumers": max((p.consumers for p in partitions), default=0),
        "sensors": len(sensors),
        "pending_batches": sum(s.batches - s.applied_n for s in sensors),
    }


def dead_letter_report(services: Services) -> dict[str, Any]:
    """The dead-letter queue: nothing consumes it, so its depth is what needs a person."""
    (stats,) = services.publisher.stats([DEAD_LETTER_FAMILY])
    return {"queue": stats.name, "depth": stats.depth}


def model_report(services: Services) -> list[dict[str, Any]]:
    """Each model and the version serving it (the store's decision, else the artifact
    folder's CURRENT), with that version's evaluation metrics."""
    out = []
    model_dir = services.settings.resolved_model_dir
    decisions = services.store.models.serving()
    for spec in REGISTRY.values():
        entry: dict[str, Any] = {"name": spec.name, "family": spec.family,
                                 "description": spec.description}
        decision = decisions.get(spec.name)
        version = decision.version if decision is not None else None
        try:
            manifest = read_manifest(model_dir, spec.name, version)
        except ModelError:
            entry.update(trained=False, version=version, metrics=None)
        else:
            entry.update(trained=True, version=manifest.version,
                         created_at=manifest.created_at, metrics=manifest.metrics,
                         data=manifest.data)
        entry["shadow"] = decision.shadow if decision is not None else None
        out.append(entry)
    return out


def model_health(services: Services) -> dict[str, dict[str, Any]]:
    """Per model: `ok`, or the `error` that stops it being served — no artifact in the
    folder this process sees (the API then refuses it with 503), or workers that cannot
    load it (their ids in `workers_unable`; reported by workers on the embedded
    transport only: on RabbitMQ such a worker shows as a consumer its queue lacks)."""
    model_dir = services.settings.resolved_model_dir
    beats = presence.reports(services.settings)
    out: dict[str, dict[str, Any]] = {}
    for spec in REGISTRY.values():
        unable = {b["worker"]: str(b["unavailable"][spec.name]) for b in beats
                  if isinstance(b.get("unavailable"), dict) and spec.name in b["unavailable"]}
        entry: dict[str, Any] = {"ok": True}
        if not available(model_dir, spec.name):
            entry = {"ok": False, "error": f"no artifact in {model_dir} (run `predictq "
                                          f"train {spec.name}`)"}
        elif unable:
            worker, reason = sorted(unable.items())[0]
            entry = {"ok": False, "error": f"{len(unable)} worker(s) cannot load it "
                                          f"({worker}: {reason})"}
        if unable:
            entry["workers_unable"] = sorted(unable)
        out[spec.name] = entry
    return out


def health(services: Services) -> tuple[bool, dict[str, Any]]:
    checks: dict[str, Any] = {}
    for name, probe in (("store", services.store.ping), ("broker", services.publisher.ping)):
        try:
            probe()
            checks[name] = {"ok": True}
        except PredictqError as exc:
            checks[name] = {"ok": False, "error": exc.message}
    ok = all(c["ok"] for c in checks.values())
    # Reported, not part of `ok`: a missing model is not this process failing (restarting
    # it creates no artifact), and a deployment may serve only some models.
    return ok, {"status": "ok" if ok else "degraded", **checks,
                "models": model_health(services)}


class StoreCollector:
    """Gauges read at scrape time: jobs per model and status, queue depth per queue."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self):
        yield from _service_gauges(self.services)  # what deploy/prometheus/alerts.yml reads
        jobs = GaugeMetricFamily("predictq_jobs", "Jobs in the store by status.",
                                 labels=["model", "status"])
        try:
            for spec in REGISTRY.values():
                for status, n in self.services.store.count_by_status(spec.name).items():
                    jobs.add_metric([spec.name, status.value], n)
        except PredictqError:
            pass  # store down: predictq_store_up says so
        yield jobs
        depth = GaugeMetricFamily("predictq_queue_depth", "Messages waiting per queue.",
                                  labels=["queue"])
        try:
            for stats in self.services.publisher.stats(FAMILIES):
                depth.add_metric([stats.name], stats.depth)
            for stats in self.services.publisher.partition_stats():
                depth.add_metric([stats.name], stats.depth)
        except PredictqError:
            pass  # broker down: the scrape still answers; /healthz says why
        yield depth
        try:
            decisions = self.services.store.models.serving().values()
        except PredictqError:
            decisions = []
        yield from _decision_gauges(decisions)


def _service_gauges(services: Services) -> list[GaugeMetricFamily]:
    """Store and broker reachability, consumers and oldest waiting age per job queue,
    dead letters: the inputs of the service alert rules (predictq.service_alerts)."""
    from predictq.service_alerts.observe import snapshot

    snap = snapshot(services.store, services.publisher)
    if snap.store_ok:
        try:
            services.store.ping()
        except PredictqError:
            snap.store_error = "unreachable"
    up = []
    for part, ok in (("store", snap.store_ok), ("broker", snap.broker_ok)):
        gauge = GaugeMetricFamily(f"predictq_{part}_up",
                                  f"1 if the {part} answered this scrape, else 0.")
        gauge.add_metric([], 1 if ok else 0)
        up.append(gauge)
    consumers = GaugeMetricFamily("predictq_queue_consumers", "Consumers per job queue.",
                                  labels=["queue"])
    oldest = GaugeMetricFamily(
        "predictq_oldest_waiting_seconds",
        "Age of the oldest queued job per job queue (0 when none waits).", labels=["queue"])
    for q in snap.queues:
        if q["consumers"] is not None:
            consumers.add_metric([q["queue"]], q["consumers"])
        if snap.store_ok and q["queue"] is not None:
            oldest.add_metric([q["queue"]], q["oldest_age_seconds"] or 0.0)
    dead = GaugeMetricFamily("predictq_dead_letters",
                             "Messages in the dead-letter queue.", labels=["queue"])
    if snap.dead_letter is not None:
        dead.add_metric([snap.dead_letter["queue"]], snap.dead_letter["depth"])
    return [*up, consumers, oldest, dead]


def _decision_gauges(decisions) -> list[GaugeMetricFamily]:
    """What serves and shadows per model (1 for the version in the label), and how many
    decisions were taken: a promotion or rollback shows as a step in a dashboard."""
    serving = GaugeMetricFamily("predictq_model_serving", "The version serving each model.",
                                labels=["model", "version"])
    shadow = GaugeMetricFamily("predictq_model_shadow", "The version in shadow, per model.",
                               labels=["model", "version"])
    switches = GaugeMetricFamily("predictq_model_decisions",
                                 "Promotions, rollbacks and shadow changes so far.",
                                 labels=["model"])
    for d in decisions:
        if d.version is not None:
            serving.add_metric([d.model, d.version], 1)
        if d.shadow is not None:
            shadow.add_metric([d.model, d.shadow], 1)
        switches.add_metric([d.model], d.generation)
    return [serving, shadow, switches]
