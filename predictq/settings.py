"""One typed settings object, read from `PREDICTQ_*` environment variables.

Every field documents itself: `predictq` prints this table in the README and the
defaults make `predictq up` work on a machine with no servers at all.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PREFIX = "PREDICTQ_"


def _doc(text: str, default: Any) -> Any:
    """A field that documents itself; `describe()` turns these into the README table."""
    return field(default=default, metadata={"doc": text})


@dataclass(frozen=True)
class Settings:
    data_dir: Path = _doc(
        "Where the embedded defaults keep their files (SQLite store, queue, models).",
        default=Path("var"),
    )
    broker_url: str = _doc(
        "Message broker. `amqp://user:pass@host:5672/vhost` for RabbitMQ; several such "
        "URLs separated by `;` name a cluster's nodes, and a lost connection moves to the "
        "next (kombu's failover list); empty means the "
        "embedded file-system transport under `<data_dir>/queue`, which needs no server.",
        default="",
    )
    store_url: str = _doc(
        "Job store. `mongodb://host:27017/predictq` for MongoDB; `sqlite:///rel.db` or "
        "`sqlite:////abs/path.db` for "
        "SQLite; empty means `sqlite:///<data_dir>/predictq.db`.",
        default="",
    )
    model_dir: Path | None = _doc(
        "Directory of model artifacts (joblib + manifest); empty means `<data_dir>/models`.",
        default=None,
    )
    host: str = _doc("Interface the API listens on.", default="127.0.0.1")
    port: int = _doc("Port the API listens on.", default=8000)
    api_workers: int = _doc("gunicorn worker processes serving the API.", default=2)
    api_threads: int = _doc("Threads per gunicorn worker (the `gthread` class).", default=8)
    api_worker_class: str = _doc(
        "gunicorn worker class of the API: `gevent` (each request a greenlet, so thousands "
        "of `?wait=` requests and event streams can be open at once) or `gthread` (each "
        "request holds one of `api_threads` threads). docs/BENCHMARKS.md compares them.",
        default="gevent",
    )
    api_worker_connections: int = _doc(
        "Most requests open at once per API process with the `gevent` class.", default=4000)
    wait_max_s: float = _doc(
        "Longest `?wait=` a request may ask for; longer ones are cut to it.", default=30.0)
    wait_poll_ms: int = _doc(
        "On the embedded broker, how often an API process with waiting requests reads the "
        "jobs finished since its last look (one query per process, however many wait).",
        default=10,
    )
    batch_size: int = _doc("Largest micro-batch a worker predicts at once (1 = one by one).",
                           default=32)
    batch_wait_ms: int = _doc(
        "How long a worker waits for a micro-batch to fill after its first message.",
        default=5,
    )
    max_body_bytes: int = _doc("Largest request body the API accepts (413 above).",
                               default=1_000_000)
    max_batch_inputs: int = _doc("Most inputs in one `POST /v1/predictions/batch`.",
                                 default=1000)
    max_text_chars: int = _doc("Longest text a `language` input may have.", default=20_000)
    queue_prefix: str = _doc(
        "Prefix of queue and exchange names; lets several deployments (or test runs) "
        "share one broker without seeing each other's messages.",
        default="predictq",
    )
    queue_type: str = _doc(
        "RabbitMQ queue type of every queue predictq declares (jobs, dead letters, "
        "stream partitions): `quorum` (replicated across a cluster, the default) or "
        "`classic` (single node). A queue's type cannot change in place: see "
        "`predictq queues migrate`. The embedded transport ignores it.",
        default="quorum",
    )
    sweep_after_s: int = _doc(
        "A job stored but not confirmed published, or left in `processing`, for this "
        "long is published again by the sweeper (every worker runs one).",
        default=10,
    )
    sweep_interval_s: int = _doc("How often each worker's sweeper looks.", default=2)
    max_attempts: int = _doc(
        "Deliveries of one job before it is failed and dead-lettered.", default=5
    )
    poll_interval_ms: int = _doc(
        "How often the embedded transport looks for new messages.", default=10
    )
    stream_partitions: int = _doc(
        "Sensor-stream partition queues (`<prefix>.stream.<i>`, single active consumer "
        "each); a sensor belongs to partition crc32(id) mod this. The most stream "
        "workers that can share the load. Change it only with the streams drained.",
        default=8,
    )
    stream_state_cache: int = _doc(
        "Sensors whose state a stream worker keeps in memory between passes (least "
        "recently used dropped first; about 100 KB each). The store's checkpoint stays "
        "the truth; a kept state only saves reading it back.",
        default=2000,
    )
    max_readings_per_request: int = _doc(
        "Most readings in one `POST /v1/sensors/<id>/readings`.", default=10_000
    )
    readings_retention_s: int = _doc(
        "Raw readings older than this (by reading time) are deleted by the workers' "
        "housekeeping; events (with their context), alerts and sensor totals are kept.",
        default=7 * 24 * 3600,
    )
    job_retention_s: int = _doc(
        "Finished (done or failed) jobs are deleted this long after they finished "
        "(`updated_at`): by a TTL index on MongoDB, and by the workers' housekeeping on "
        "every store; queued and processing jobs never expire. 0 keeps them forever.",
        default=30 * 24 * 3600,
    )
    idempotency_retention_s: int = _doc(
        "An Idempotency-Key is forgotten this long after its first use (never later than "
        "its jobs); the same key then creates new jobs. 0 keeps keys as long as jobs.",
        default=24 * 3600,
    )
    event_model: str = _doc(
        "The model that classifies each event detected in a sensor stream.",
        default="appliance",
    )
    alert_webhook_url: str = _doc(
        "If set, every alert is POSTed here as JSON (Slack incoming-webhook compatible "
        "`text` field), retried with backoff until a 2xx.",
        default="",
    )
    alert_on_events: bool = _doc(
        "Also raise an alert for every event detected in a stream, not only for "
        "anomalies.",
        default=False,
    )
    alert_gap_s: int = _doc(
        "An anomalous reading within this many seconds (sensor clock) of the sensor's "
        "previous anomalous reading belongs to the same alert; only one after a longer "
        "quiet spell raises a new alert.",
        default=60,
    )
    callback_allow: str = _doc(
        "Where completion callbacks (`callback_url` on a submission) may go, comma-separated: "
        "a host (`hooks.example.com`, default port only), `host:port`, `host:*` (any port), "
        "`*.example.com` (its subdomains), a URL prefix (`https://h.example.com/hooks/`), "
        "or `*` (any host). Wildcards reach public addresses only; a target resolving to "
        "a private, loopback or link-local address must be named literally. Empty: "
        "callbacks are refused (422). docs/CALLBACKS.md.",
        default="",
    )
    callback_secret: str = _doc(
        "The per-deployment key of the callbacks' `X-Predictq-Signature` (HMAC-SHA256); "
        "at least 16 characters, required when `PREDICTQ_CALLBACK_ALLOW` is set.",
        default="",
    )
    callback_concurrency: int = _doc(
        "Callbacks each worker POSTs at once (threads, each keeping its connections "
        "alive).",
        default=8,
    )
    callback_timeout_s: int = _doc(
        "How long a callback receiver has to answer before the attempt counts as failed "
        "(and is retried with backoff).",
        default=5,
    )
    model_poll_ms: int = _doc(
        "How often a worker asks the store which model versions serve and shadow; a "
        "promotion or rollback reaches every worker within this (plus the load time).",
        default=2000,
    )
    learn_every: int = _doc(
        "Learn from feedback after every this many new labels of a model that can "
        "(`language`): a candidate version is built, evaluated and kept; 0 turns it off.",
        default=0,
    )
    learn_auto_promote: bool = _doc(
        "Promote a version learned from feedback when it is not worse than the serving "
        "one on the held-out set and the feedback (otherwise it waits for an operator).",
        default=False,
    )
    service_alert_webhook_url: str = _doc(
        "Where alerts on the service itself (the rules below) are POSTed as JSON when "
        "they open and when they resolve, retried with backoff until a 2xx; empty means "
        "`PREDICTQ_ALERT_WEBHOOK_URL`; both empty: shown in the dashboard and `predictq "
        "status` only.",
        default="",
    )
    service_alert_interval_s: int = _doc(
        "How often the rules are evaluated: once per this across all workers (and API "
        "processes serving the dashboard), whoever takes the store's round first.",
        default=5,
    )
    service_alert_queue_depth: int = _doc(
        "Alert when a job queue (or the stream partitions together) holds more than "
        "this many messages for `PREDICTQ_SERVICE_ALERT_QUEUE_DEPTH_FOR_S`; 0 turns it "
        "off.",
        default=10_000,
    )
    service_alert_queue_depth_for_s: int = _doc(
        "How long a queue must stay above `PREDICTQ_SERVICE_ALERT_QUEUE_DEPTH` before "
        "its alert opens.",
        default=120,
    )
    service_alert_oldest_age_s: int = _doc(
        "Alert when a queue's oldest waiting job has waited longer than this; 0 turns "
        "it off.",
        default=300,
    )
    service_alert_dead_letters: int = _doc(
        "Alert while the dead-letter queue holds more than this many messages; -1 turns "
        "it off.",
        default=0,
    )
    service_alert_no_consumer_for_s: int = _doc(
        "Alert when a job queue has had no consumer for this long; -1 turns it off.",
        default=60,
    )
    service_alert_down_for_s: int = _doc(
        "Alert when the store or the broker has been unreachable for this long; -1 "
        "turns it off. A store outage is alerted from each worker's memory (it cannot "
        "be written to the store) and recorded in the store when it is back.",
        default=10,
    )
    api_keys: str = _doc(
        "`on`: every `/v1` request needs an API key (`Authorization: Bearer <key>` or "
        "`X-API-Key`) made by `predictq keys create`, and a key reads only the jobs it "
        "submitted unless it has the `read-all` scope; `off`: no keys (the embedded "
        "default). docs/SECURITY.md.",
        default="off",
    )
    rate_limit: str = _doc(
        "Requests allowed per API key (per client address when keys are off) across "
        "every API process, in the `limits` notation (`100000/minute`, several separated "
        "by `;`); answered 429 with Retry-After above it; `off` turns it off. The default "
        "is a backstop above every documented benchmark from one address.",
        default="100000/minute",
    )
    rate_limit_storage_url: str = _doc(
        "Where the rate-limit counters live: `redis://host:6379` (needs the `redis` "
        "package), `memory://` (one process only, for tests); empty means beside the "
        "store (a `<store file>.limits` SQLite file, or the database `<store "
        "database>_limits` on the store's MongoDB server).",
        default="",
    )
    trusted_proxies: int = _doc(
        "Reverse proxies in front of the API whose `X-Forwarded-For` is believed when "
        "the rate limit is per address; 0 uses the connection's own address.",
        default=0,
    )

    @property
    def keys_required(self) -> bool:
        """True when `api_keys` says on (on/1/true/yes); off/0/false/no/empty say off."""
        value = self.api_keys.strip().lower()
        if value in ("on", "1", "true", "yes"):
            return True
        if value in ("off", "0", "false", "no", ""):
            return False
        raise ValueError(f"{PREFIX}API_KEYS={self.api_keys!r}: expected on or off")

    @property
    def resolved_broker_url(self) -> str:
        return self.broker_url or "filesystem://"

    @property
    def resolved_store_url(self) -> str:
        return self.store_url or f"sqlite:///{(self.data_dir / 'predictq.db').resolve()}"

    @property
    def resolved_model_dir(self) -> Path:
        return self.model_dir or self.data_dir / "models"

    @property
    def queue_dir(self) -> Path:
        """Folder of the embedded file-system transport."""
        return self.data_dir / "queue"

    @property
    def uses_embedded_broker(self) -> bool:
        return self.resolved_broker_url.startswith("filesystem")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every field from `PREDICTQ_<FIELD>`; keyword overrides win."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(PREFIX + f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def as_env(self) -> dict[str, str]:
        """The environment that reproduces these settings in a child process."""
        env = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool):
                env[PREFIX + f.name.upper()] = "1" if value else "0"
            elif value is not None:
                env[PREFIX + f.name.upper()] = str(value)
        return env


def _convert(f: dataclasses.Field, raw: str) -> Any:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    try:
        if kind.startswith("bool"):
            if raw.lower() not in ("1", "0", "true", "false", "yes", "no"):
                raise ValueError("expected 1/0, true/false or yes/no")
            return raw.lower() in ("1", "true", "yes")
        if kind.startswith("int"):
            return int(raw)
        if kind.startswith("float"):
            return float(raw)
        if "Path" in kind:
            return Path(raw)
    except ValueError as exc:
        raise ValueError(f"{PREFIX}{f.name.upper()}={raw!r}: {exc}") from None
    return raw


def describe() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) for every setting: the README's configuration table."""
    rows = []
    for f in dataclasses.fields(Settings):
        default = f.default if f.default is not dataclasses.MISSING else ""
        rows.append((PREFIX + f.name.upper(), "" if default is None else str(default),
                     f.metadata["doc"]))
    return rows
