"""Sensor-stream benchmark: ingestion, processing rate, alert latency, state size, RSS.

Real processes on RabbitMQ and the default SQLite store, started the way
loadtest/harness.py starts them (settings only through the environment, a fresh data
dir in a temporary folder, a unique queue prefix per run whose queues are deleted
afterwards). Traffic goes to 127.0.0.1 only. Each part runs alone or all in turn:

  ingest    `predictq api`, no worker: closed-loop keep-alive clients (threads) POST
            bulk readings (--ingest-batch per request) for --ingest-sensors sensors for
            --ingest-s seconds; requests/s, readings/s accepted (202), p50/p99, and the
            CPU each side used (API processes, RabbitMQ, this client, the rest).
  process   N readings (sensors x per-sensor, real-ish values from
            models.streams.data.build_streams, batches of 1,000) preloaded through the
            API while no worker runs; then 1 `predictq worker --family stream` starts and
            the store is polled until every sensor's batches are applied. Again on a
            fresh store with 2 workers. Compared with `StreamModel().steps` on the same
            readings in this process (one core), measured in the same run.
  latency   1 stream worker; every sensor's history preloaded and applied (warm-up);
            then an open-loop schedule: each of --latency-sensors sensors posts one
            request a second carrying that second's readings (--latency-hz), for
            --latency-s seconds. Isolated spikes on known sensors at known times; per
            spike: alert `created_at` (store) - the client's clock when the 202 of the
            request carrying the spike arrived.
  state     API + 1 stream worker; --state-sensors sensors get --state-readings
            real-ish readings each; then the JSON size of each stored checkpoint state.
  memory    API + 1 stream worker under a steady open-loop load (--memory-sensors
            sensors x --memory-hz readings/s) for --memory-minutes; the worker's VmRSS
            every 10 s.

    python -m loadtest.stream_bench all
    python -m loadtest.stream_bench latency --latency-s 30

Needs RabbitMQ (PREDICTQ_TEST_AMQP_URL or --amqp-url). Results are printed as
Markdown; --json writes the raw figures as well.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import math
import os
import random
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from loadtest import harness
from loadtest.harness import Processes
from loadtest.stats import percentile, ratio, window_rate
from loadtest.stream_chaos import delete_queues
from predictq.settings import Settings
from predictq.store import Store, open_store

DEFAULT_AMQP = os.environ.get("PREDICTQ_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
PARTS = ("ingest", "process", "latency", "state", "memory")
CLK_TCK = os.sysconf("SC_CLK_TCK")
SEED = 20261128
SPIKE_SIGMA = 40.0  # spike height in noise standard deviations (flagged on its reading)


# -- maths --------------------------------------------------------------------------


def slope_per_minute(samples: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) samples, in value units per minute; NaN
    with fewer than two distinct times."""
    if len(samples) < 2:
        return math.nan
    n = len(samples)
    mx = sum(x for x, _ in samples) / n
    my = sum(y for _, y in samples) / n
    sxx = sum((x - mx) ** 2 for x, _ in samples)
    if sxx == 0:
        return math.nan
    sxy = sum((x - mx) * (y - my) for x, y in samples)
    return sxy / sxx * 60.0


def cpu_split(cpu_s: dict[str, float], wall_s: float, machine_busy_s: float) -> dict[str, float]:
    """CPU seconds per part -> cores used on average over `wall_s`, plus `other` (what
    the machine's busy time leaves unexplained, never below 0) and `machine`."""
    if wall_s <= 0:
        return {}
    out = {name: s / wall_s for name, s in cpu_s.items()}
    out["other"] = max(0.0, machine_busy_s - sum(cpu_s.values())) / wall_s
    out["machine"] = machine_busy_s / wall_s
    return out


def summary(values: Sequence[float]) -> dict[str, float]:
    """count, p50, p99 and max (nearest rank) of `values`."""
    return {"n": len(values), "p50": percentile(values, 50), "p99": percentile(values, 99),
            "max": max(values) if values else math.nan}


# -- processes and CPU ----------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, in seconds; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (from /proc/<pid>/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{p}/task").iterdir():
                with contextlib.suppress(OSError):
                    todo += [int(c) for c in (task / "children").read_text().split()]
    return out


def pids_named(comm: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == comm:
                    pids.append(int(entry.name))
    return pids


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent not idle (all cores), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / CLK_TCK


class CpuMeter:
    """CPU seconds used by named groups of processes between `start()` and `stop()`."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self.groups = groups

    def _read(self) -> tuple[dict[str, float], float, float, float]:
        per = {name: sum(cpu_seconds(p) for p in pids()) for name, pids in self.groups.items()}
        return per, time.process_time(), machine_busy_seconds(), time.monotonic()

    def start(self) -> None:
        self._start = self._read()

    def stop(self) -> dict[str, float]:
        (per0, me0, busy0, t0), (per1, me1, busy1, t1) = self._start, self._read()
        cpu = {name: per1[name] - per0[name] for name in per1}
        cpu["client"] = me1 - me0
        return cpu_split(cpu, t1 - t0, busy1 - busy0)


# -- the stack ------------------------------------------------------------------------


@dataclass
class Stack:
    url: str
    env: dict[str, str]
    procs: Processes
    store: Store
    settings: Settings
    api: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)

    def start_workers(self, count: int) -> list[subprocess.Popen]:
        new = [self.procs.spawn(f"stream{len(self.workers) + i}",
                                ["worker", "--family", "stream"], self.env)
               for i in range(count)]
        self.workers += new
        return new


@contextlib.contextmanager
def stack(cfg: Config, tag: str, **settings: str) -> Iterator[Stack]:
    """`predictq api` on a fresh SQLite store and RabbitMQ (unique prefix), no worker
    yet; on exit every process stops and the run's queues are deleted."""
    data_dir = Path(tempfile.mkdtemp(prefix=tag + "-", dir=cfg.workdir))
    for name in ("api_workers", "api_threads"):
        if getattr(cfg, name):
            settings.setdefault(name, str(getattr(cfg, name)))
    prefix = harness.unique_prefix(f"stream-{tag}")
    env = harness.child_env(data_dir, prefix=prefix, model_dir=data_dir / "models",
                            broker_url=cfg.amqp_url, port=harness.free_port(), **settings)
    st = Settings.from_env(harness.settings_env(env))
    try:
        with Processes(data_dir / "logs") as procs:
            url = f"http://127.0.0.1:{env['PREDICTQ_PORT']}"
            api = procs.spawn("api", ["api"], env)
            harness.wait_api(url, procs, st.api_workers)
            store = open_store(st.resolved_store_url)
            try:
                yield Stack(url, env, procs, store, st, api)
            finally:
                store.close()
    finally:
        try:
            delete_queues(cfg.amqp_url, prefix)
        except Exception as exc:  # cleanup must not hide the result
            print(f"warning: could not delete queues {prefix}.*: {exc}", file=sys.stderr)


def watch_subscriptions(amqp_url: str, settings: Settings, count: int,
                        timeout_s: float = 60.0) -> dict[int, float]:
    """In a background thread, until `count` consumers are on every partition queue:
    the monotonic time at which every partition first had k = 1..count consumers (the
    moment a stream worker starts taking wake-ups). The dict fills as it happens."""
    from kombu import Connection

    from predictq import topology

    seen: dict[int, float] = {}

    def run() -> None:
        deadline = time.monotonic() + timeout_s
        with Connection(amqp_url, connect_timeout=5) as conn:
            channel = conn.channel()
            names = [q.name for q in topology.partition_queues(settings)]
            while time.monotonic() < deadline and len(seen) < count:
                least = count
                for name in names:
                    try:
                        least = min(least, channel.queue_declare(name, passive=True)[2])
                    except Exception:  # not declared yet
                        channel = conn.channel()
                        least = 0
                        break
                now = time.monotonic()
                for k in range(1, least + 1):
                    seen.setdefault(k, now)
                time.sleep(0.02)

    threading.Thread(target=run, daemon=True).start()
    return seen


def pending(store: Store, expected_sensors: int) -> int | None:
    """Batches not yet applied over all sensors; None until every sensor exists."""
    sensors = store.sensors.list_sensors(limit=100_000)
    if len(sensors) < expected_sensors:
        return None
    return sum(s.batches - s.applied_n for s in sensors)


def wait_applied(s: Stack, expected_sensors: int, timeout_s: float) -> None:
    harness.wait_until(lambda: pending(s.store, expected_sensors) == 0,
                       "every batch applied", s.procs, timeout_s, interval=0.25)


# -- data -----------------------------------------------------------------------------


def real_values(n_sensors: int, per_sensor: int) -> list[list[float]]:
    """Per sensor, `per_sensor` real-ish readings: slices of build_streams' streams (ACSF1
    events on real off-state stretches), each sensor from its own offset."""
    import numpy as np

    from models.streams.data import build_streams

    streams = [s.values for s in build_streams()]
    out = []
    for i in range(n_sensors):
        v = streams[i % len(streams)]
        start = (i // len(streams)) * 7919 % len(v)
        out.append(np.round(v[(start + np.arange(per_sensor)) % len(v)], 4).tolist())
    return out


def body(ts: Sequence[float], values: Sequence[float]) -> bytes:
    return json.dumps({"readings": [{"t": round(t, 3), "value": v}
                                    for t, v in zip(ts, values, strict=True)]}).encode()


def sensor_name(i: int) -> str:
    return f"bench-{i:05d}"


# -- HTTP clients -----------------------------------------------------------------------


class KeepAlive:
    """One keep-alive connection; reconnects once if the server closed it."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self.conn: http.client.HTTPConnection | None = None
        self.refusal: str | None = None  # the first answer other than 202

    def post(self, path: str, data: bytes) -> int:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port,
                                                       timeout=self.timeout)
            try:
                self.conn.request("POST", path, data, {"Content-Type": "application/json"})
                response = self.conn.getresponse()
                answer = response.read()
                if response.status != 202 and self.refusal is None:
                    self.refusal = f"{response.status} {answer[:300]!r}"
                return response.status
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


@dataclass
class Posted:
    latencies_ms: list[float]
    accepted: int  # 202 answers
    refused: int  # other status or no answer
    readings: int  # readings in the 202 requests
    wall_s: float


def post_all(url: str, lanes: list[Iterator[tuple[str, bytes, int]]],
             deadline_s: float | None = None) -> Posted:
    """Closed loop: one thread and connection per lane, each POSTing its (path, body,
    readings) items back to back until the lane ends or `deadline_s` (monotonic) passes."""
    lat: list[float] = []
    counts = {"accepted": 0, "refused": 0, "readings": 0}
    lock = threading.Lock()
    errors: list[BaseException] = []

    def run(lane: Iterator[tuple[str, bytes, int]]) -> None:
        client = KeepAlive(url)
        try:
            for path, data, n in lane:
                if deadline_s is not None and time.monotonic() >= deadline_s:
                    break
                t0 = time.perf_counter()
                try:
                    status = client.post(path, data)
                except OSError:
                    status = 0
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    lat.append(ms)
                    if status == 202:
                        counts["accepted"] += 1
                        counts["readings"] += n
                    else:
                        counts["refused"] += 1
        except BaseException as exc:
            errors.append(exc)
        finally:
            client.close()

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(lane,)) for lane in lanes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"a client thread failed: {errors[0]!r}") from errors[0]
    return Posted(lat, counts["accepted"], counts["refused"], counts["readings"],
                  time.monotonic() - started)


def bulk_lanes(values: list[list[float]], batch: int, clients: int, t0: float,
               requests_per_sensor: int | None = None) -> list[Iterator[tuple[str, bytes, int]]]:
    """Per client, a generator of bulk requests: its sensors (i % clients) in turn, each
    request the sensor's next `batch` readings 1 s apart (values wrap around), forever
    or `requests_per_sensor` each."""
    def lane(mine: list[int]) -> Iterator[tuple[str, bytes, int]]:
        r = 0
        while requests_per_sensor is None or r < requests_per_sensor:
            for i in mine:
                v = values[i]
                lo = r * batch
                ts = [t0 + k for k in range(lo, lo + batch)]
                vals = [v[k % len(v)] for k in range(lo, lo + batch)]
                yield f"/v1/sensors/{sensor_name(i)}/readings", body(ts, vals), batch
            r += 1

    return [lane(list(range(c, len(values), clients))) for c in range(clients)]


@dataclass
class Send:
    sensor: int
    second: int  # the round: one request per sensor per round of every_s seconds
    due: float  # wall clock
    sent: float = 0.0
    answered: float = 0.0  # wall clock when the answer arrived
    status: int = 0
    spike_t: float | None = None  # reading time of the spike this request carried


def open_loop(url: str, n_sensors: int, hz: int, duration_s: int, clients: int,
              value: Callable[[int, int], float], start: float,
              spikes: dict[tuple[int, int], int] | None = None,
              give_up_s: float = 15.0, every_s: int = 1) -> list[Send]:
    """A fixed schedule: sensor i posts at start + r * every_s + i * every_s / n_sensors
    for each round r, carrying the `hz * every_s` readings of the `every_s` seconds
    before (the last one stamped at the due time). `value(i, k)` is sensor i's k-th live
    reading; `spikes[(i, r)] = j` adds a spike of SPIKE_SIGMA to reading j of that
    request. Each client thread (own connection) owns sensors i % clients and walks
    their sends in due order; a late answer delays only that thread's next sends
    (recorded as lag)."""
    spikes = spikes or {}
    sends: list[list[Send]] = [[] for _ in range(clients)]
    for r in range(duration_s // every_s):
        for i in range(n_sensors):
            sends[i % clients].append(Send(i, r, start + (r + i / n_sensors) * every_s))
    per = hz * every_s
    give_up = start + duration_s + give_up_s
    errors: list[str] = []

    def run(mine: list[Send]) -> None:
        client = KeepAlive(url, timeout=30.0)
        try:
            for send in mine:
                delay = send.due - time.time()
                if delay > 0:
                    time.sleep(delay)
                if time.time() > give_up:
                    break
                ts = [send.due - (per - 1 - j) / hz for j in range(per)]
                vals = [value(send.sensor, send.second * per + j) for j in range(per)]
                j = spikes.get((send.sensor, send.second))
                if j is not None:
                    vals[j] = round(vals[j] + SPIKE_SIGMA, 4)
                    send.spike_t = round(ts[j], 3)
                data = body(ts, vals)
                send.sent = time.time()
                try:
                    send.status = client.post(f"/v1/sensors/{sensor_name(send.sensor)}/readings",
                                              data)
                except OSError as exc:
                    send.status = 0
                    errors.append(repr(exc))
                send.answered = time.time()
        finally:
            client.close()
            if client.refusal is not None:
                errors.append(client.refusal)

    threads = [threading.Thread(target=run, args=(mine,)) for mine in sends]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print(f"{len(errors)} failure(s) (no answer, or a first answer other than 202 "
              f"per client), e.g. {errors[0]}", file=sys.stderr)
    return [s for mine in sends for s in mine]


def lag_stats(sends: Sequence[Send]) -> dict[str, float]:
    done = [s for s in sends if s.sent]
    lags = [(s.sent - s.due) * 1000 for s in done]
    lat = [(s.answered - s.sent) * 1000 for s in done]
    return {"scheduled": len(sends), "sent": len(done),
            "accepted": sum(s.status == 202 for s in done),
            "statuses": {str(k): sum(s.status == k for s in done)
                         for k in sorted({s.status for s in done})},
            "achieved_per_s": window_rate(len(done), [s.sent for s in done]),
            "lag_p50_ms": percentile(lags, 50), "lag_p99_ms": percentile(lags, 99),
            "lag_max_ms": max(lags, default=math.nan),
            "post_p50_ms": percentile(lat, 50), "post_p99_ms": percentile(lat, 99)}


# -- the parts ------------------------------------------------------------------------


@dataclass
class Config:
    amqp_url: str
    workdir: Path
    ingest_sensors: int = 200
    ingest_batch: int = 1000
    ingest_clients: int = 4
    ingest_s: float = 20.0
    process_sensors: int = 200
    process_per_sensor: int = 2000
    process_timeout_s: float = 300.0
    latency_sensors: int = 1000
    latency_hz: int = 5
    latency_s: int = 60
    latency_spikes: int = 100
    latency_warmup: int = 300
    latency_clients: int = 100
    latency_every_s: int = 1  # seconds of readings per request (one request per sensor)
    state_sensors: int = 20
    state_readings: int = 10_000
    memory_sensors: int = 200
    memory_hz: int = 10
    memory_minutes: float = 10.0
    memory_clients: int = 20
    api_workers: int = 0  # 0: predictq's default (PREDICTQ_API_WORKERS)
    api_threads: int = 0  # 0: predictq's default (PREDICTQ_API_THREADS)


def ingest(cfg: Config) -> dict[str, Any]:
    values = real_values(cfg.ingest_sensors, 10_000)
    t0 = float(int(time.time()) - 2 * 86400)
    with stack(cfg, "ingest") as s:
        # warm the connections and the API processes up (not counted)
        post_all(s.url, bulk_lanes(values[:cfg.ingest_clients], cfg.ingest_batch,
                                   cfg.ingest_clients, t0 - 50_000, 1))
        meter = CpuMeter({"api": lambda: process_tree(s.api.pid),
                          "rabbitmq": lambda: pids_named("beam.smp")})
        meter.start()
        posted = post_all(s.url, bulk_lanes(values, cfg.ingest_batch, cfg.ingest_clients, t0),
                          deadline_s=time.monotonic() + cfg.ingest_s)
        cpu = meter.stop()
        stored = sum(x.readings for x in s.store.sensors.list_sensors(limit=100_000))
    warm = cfg.ingest_clients * cfg.ingest_batch
    return {"requests": posted.accepted + posted.refused, "accepted": posted.accepted,
            "refused": posted.refused, "wall_s": posted.wall_s,
            "requests_per_s": posted.accepted / posted.wall_s,
            "readings_per_s": posted.readings / posted.wall_s,
            "p50_ms": percentile(posted.latencies_ms, 50),
            "p99_ms": percentile(posted.latencies_ms, 99),
            "max_ms": max(posted.latencies_ms, default=math.nan),
            "stored_readings": stored - warm, "accepted_readings": posted.readings,
            "cpu_cores": cpu}


def in_process_rate(values: list[list[float]], t0: float, batch: int) -> dict[str, float]:
    """StreamModel().steps over the same readings in this process (one core): the
    detectors alone, and with the checkpoint round trip per batch (from_state + steps +
    to_state + json.dumps) that a worker pass also does."""
    from models.streams import StreamModel

    n = sum(len(v) for v in values)
    started = time.process_time()
    for v in values:
        model = StreamModel()
        for lo in range(0, len(v), batch):
            model.steps([t0 + k for k in range(lo, lo + len(v[lo:lo + batch]))],
                        v[lo:lo + batch])
    steps_s = time.process_time() - started
    started = time.process_time()
    for v in values:
        state = None
        for lo in range(0, len(v), batch):
            model = StreamModel() if state is None else StreamModel.from_state(state)
            model.steps([t0 + k for k in range(lo, lo + len(v[lo:lo + batch]))],
                        v[lo:lo + batch])
            state = json.loads(json.dumps(model.to_state()))
    roundtrip_s = time.process_time() - started
    return {"readings": n, "steps_per_s": n / steps_s, "with_checkpoint_per_s": n / roundtrip_s}


def process(cfg: Config) -> dict[str, Any]:
    values = real_values(cfg.process_sensors, cfg.process_per_sensor)
    t0 = float(int(time.time()) - 2 * 86400)
    batch = 1000
    n = cfg.process_sensors * cfg.process_per_sensor
    out: dict[str, Any] = {"readings": n, "sensors": cfg.process_sensors}
    out["in_process"] = in_process_rate(values, t0, batch)
    for workers in (1, 2):
        with stack(cfg, f"process{workers}") as s:
            posted = post_all(s.url, bulk_lanes(values, batch, 4, t0,
                                                math.ceil(cfg.process_per_sensor / batch)))
            if posted.refused:
                raise RuntimeError(f"preload: {posted.refused} request(s) refused")
            started = time.monotonic()
            procs = s.start_workers(workers)
            cpu0 = [cpu_seconds(p.pid) for p in procs]
            subscribed = watch_subscriptions(cfg.amqp_url, s.settings, workers)
            first = None
            deadline = started + cfg.process_timeout_s
            total = cfg.process_sensors * math.ceil(cfg.process_per_sensor / batch)
            while True:
                s.procs.check_alive()
                left = pending(s.store, cfg.process_sensors)
                now = time.monotonic()
                if left is not None:
                    if first is None and left < total:
                        first = now
                    if left == 0:
                        break
                if now > deadline:
                    raise TimeoutError(f"{left} batches still pending after "
                                       f"{cfg.process_timeout_s:.0f} s")
                time.sleep(0.05)
            done = time.monotonic()
            cpu = [cpu_seconds(p.pid) - c for p, c in zip(procs, cpu0, strict=True)]
        ready = subscribed.get(1, started)
        per_s = n / (done - ready)
        out[f"workers_{workers}"] = {
            "from_start_s": done - started, "from_subscribed_s": done - ready,
            "subscribed_after_s": {k: v - started for k, v in subscribed.items()},
            "first_write_after_subscribed_s": (first or done) - ready,
            "per_s": per_s, "per_s_with_startup": n / (done - started),
            "worker_cpu_s": cpu,
            "vs_in_process": ratio(per_s, out["in_process"]["steps_per_s"])}
    return out


def latency(cfg: Config) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(SEED)
    n, hz = cfg.latency_sensors, cfg.latency_hz
    total = cfg.latency_warmup + cfg.latency_s * hz
    base = 100.0 + (np.arange(n) % 50)[:, None]
    noise = np.round(base + rng.normal(0.0, 1.0, (n, total)), 4)
    warm = noise[:, :cfg.latency_warmup].tolist()
    live = noise[:, cfg.latency_warmup:].tolist()
    # spikes: distinct sensors (one alert per sensor per PREDICTQ_ALERT_GAP_S), at
    # seconds spread over the run after the first 3 s, on a random reading of the request
    pick = random.Random(SEED)
    sensors = pick.sample(range(n), cfg.latency_spikes)
    seconds = [3 + round(k * (cfg.latency_s - 5) / cfg.latency_spikes)
               for k in range(cfg.latency_spikes)]
    every = cfg.latency_every_s
    spikes = {(i, sec // every): pick.randrange(hz * every)
              for i, sec in zip(sensors, seconds, strict=True)}
    with stack(cfg, "latency") as s:
        worker = s.start_workers(1)[0]
        # history: ends 5 s before now, so before any live reading
        t_warm = time.time() - 5.0 - cfg.latency_warmup / hz
        warm_lanes = bulk_lanes(warm, cfg.latency_warmup, 8, 0.0, 1)
        # history readings 1/hz apart (bulk_lanes stamps 1 s apart: rescale the times)
        warm_lanes = [_retime(lane, t_warm, 1.0 / hz) for lane in warm_lanes]
        posted = post_all(s.url, warm_lanes)
        if posted.refused:
            raise RuntimeError(f"warm-up: {posted.refused} request(s) refused")
        wait_applied(s, n, 120.0)
        alerts_before = {a.alert_id for a in s.store.sensors.alerts(limit=100_000)}
        start = time.time() + 1.0
        meter = CpuMeter({"api": lambda: process_tree(s.api.pid),
                          "worker": lambda: [worker.pid],
                          "rabbitmq": lambda: pids_named("beam.smp")})
        meter.start()
        sends = open_loop(s.url, n, hz, cfg.latency_s, cfg.latency_clients,
                          lambda i, k: live[i][k], start, spikes, every_s=every)
        cpu = meter.stop()
        spiked = [x for x in sends if x.spike_t is not None and x.status == 202]
        deadline = time.monotonic() + 30.0
        found: dict[tuple[str, float], float] = {}
        while time.monotonic() < deadline:
            alerts = [a for a in s.store.sensors.alerts(since=start - 10, limit=100_000)
                      if a.alert_id not in alerts_before and a.kind == "anomaly"]
            found = {(a.sensor_id, round(a.t, 3)): a.created_at for a in alerts}
            if all((sensor_name(x.sensor), x.spike_t) in found for x in spiked):
                break
            s.procs.check_alive()
            time.sleep(0.5)
        left = pending(s.store, n)
    lat = [(found[(sensor_name(x.sensor), x.spike_t)] - x.answered) * 1000 for x in spiked
           if (sensor_name(x.sensor), x.spike_t) in found]
    from_send = [(found[(sensor_name(x.sensor), x.spike_t)] - x.sent) * 1000 for x in spiked
                 if (sensor_name(x.sensor), x.spike_t) in found]
    spike_keys = {(sensor_name(x.sensor), x.spike_t) for x in spiked}
    return {"spikes_scheduled": len(spikes), "spikes_accepted": len(spiked),
            "spikes_alerted": len(lat), "other_alerts": len(set(found) - spike_keys),
            "accepted_to_alert_ms": summary(lat), "sent_to_alert_ms": summary(from_send),
            "load": lag_stats(sends), "pending_after": left, "cpu_cores": cpu,
            "rate_target_per_s": n * hz}


def _retime(lane: Iterator[tuple[str, bytes, int]], t0: float,
            step: float) -> Iterator[tuple[str, bytes, int]]:
    """bulk_lanes' requests with reading k at t0 + k * step instead of 1 s apart."""
    for path, data, k in lane:
        readings = json.loads(data)["readings"]
        for r in readings:
            r["t"] = round(t0 + r["t"] * step, 3)
        yield path, json.dumps({"readings": readings}).encode(), k


def state(cfg: Config) -> dict[str, Any]:
    values = real_values(cfg.state_sensors, cfg.state_readings)
    t0 = float(int(time.time()) - 2 * 86400)
    with stack(cfg, "state") as s:
        s.start_workers(1)
        posted = post_all(s.url, bulk_lanes(values, 1000, 4, t0,
                                            math.ceil(cfg.state_readings / 1000)))
        if posted.refused:
            raise RuntimeError(f"{posted.refused} request(s) refused")
        wait_applied(s, cfg.state_sensors, 300.0)
        sizes = [len(json.dumps(s.store.sensors.checkpoint(sensor_name(i)).state))
                 for i in range(cfg.state_sensors)]
        sizes_model = [len(json.dumps(s.store.sensors.checkpoint(sensor_name(i))
                                      .state["model"]))
                       for i in range(cfg.state_sensors)]
        events = sum(x.events for x in s.store.sensors.list_sensors(limit=100_000))
    mean = sum(sizes) / len(sizes)
    return {"sensors": cfg.state_sensors, "readings_each": cfg.state_readings,
            "mean_bytes": mean, "max_bytes": max(sizes), "min_bytes": min(sizes),
            "model_part_mean_bytes": sum(sizes_model) / len(sizes_model),
            "events": events, "for_100k_sensors_mb_mean": mean * 100_000 / 1e6,
            "for_100k_sensors_mb_max": max(sizes) * 100_000 / 1e6}


def memory(cfg: Config) -> dict[str, Any]:
    duration = int(cfg.memory_minutes * 60)
    n, hz = cfg.memory_sensors, cfg.memory_hz
    values = real_values(n, duration * hz + hz)
    with stack(cfg, "memory") as s:
        worker = s.start_workers(1)[0]
        samples: list[tuple[float, float]] = []
        stop = threading.Event()
        start = time.time() + 3.0

        def sample() -> None:
            while not stop.wait(max(0.0, start + 10 * (len(samples) + 1) - time.time())):
                with contextlib.suppress(OSError, RuntimeError):
                    samples.append((time.time() - start, harness.rss_kib(worker.pid) / 1024))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        cpu0 = cpu_seconds(worker.pid)
        sends = open_loop(s.url, n, hz, duration, cfg.memory_clients,
                          lambda i, k: values[i][k], start)
        stop.set()
        sampler.join()
        cpu = cpu_seconds(worker.pid) - cpu0
        wait_applied(s, n, 120.0)
        s.procs.check_alive()
    rss = [v for _, v in samples]
    return {"samples": samples, "first_mib": rss[0], "last_mib": rss[-1], "max_mib": max(rss),
            "slope_mib_per_min": slope_per_minute(samples),
            "slope_second_half_mib_per_min": slope_per_minute(samples[len(samples) // 2:]),
            "load": lag_stats(sends), "worker_cores": cpu / duration}


RUNNERS = {"ingest": ingest, "process": process, "latency": latency, "state": state,
           "memory": memory}


# -- report ----------------------------------------------------------------------------


def _f(v: float, digits: int = 0) -> str:
    return "n/a" if isinstance(v, float) and math.isnan(v) else f"{v:,.{digits}f}"


def render(part: str, r: dict[str, Any], cfg: Config) -> str:
    if part == "ingest":
        cpu = ", ".join(f"{k} {v:.2f}" for k, v in r["cpu_cores"].items())
        ok = r["readings_per_s"] >= 20_000
        return (f"{cfg.ingest_sensors} sensors, {cfg.ingest_batch} readings a request, "
                f"{cfg.ingest_clients} keep-alive client threads, {r['wall_s']:.1f} s: "
                f"{r['accepted']:,} requests accepted (202), {r['refused']} refused; "
                f"**{_f(r['requests_per_s'], 1)} requests/s, {_f(r['readings_per_s'])} "
                f"readings/s** (goal ≥ 20,000: {'met' if ok else '**not met**'}); "
                f"latency p50 {_f(r['p50_ms'], 1)} ms, p99 {_f(r['p99_ms'], 1)} ms, max "
                f"{_f(r['max_ms'], 1)} ms; {r['stored_readings']:,} readings stored for "
                f"{r['accepted_readings']:,} accepted. CPU in cores (of 2): {cpu}.")
    if part == "process":
        ip = r["in_process"]
        rows = [f"in-process `StreamModel().steps` (one core): {_f(ip['steps_per_s'])} "
                f"readings/s; with a checkpoint round trip per batch: "
                f"{_f(ip['with_checkpoint_per_s'])} readings/s"]
        for w in (1, 2):
            x = r[f"workers_{w}"]
            ok = x["vs_in_process"] >= 0.5
            rows.append(
                f"{w} stream worker(s): **{_f(x['per_s'])} readings/s** from the moment "
                f"a worker was subscribed to every partition ({x['from_subscribed_s']:.1f} s;"
                f" {_f(x['per_s_with_startup'])}/s counting process start-up, "
                f"{x['from_start_s']:.1f} s; subscribed after "
                + ", ".join(f"{v:.1f} s" for v in x["subscribed_after_s"].values())
                + f"; first store write {x['first_write_after_subscribed_s']:.1f} s after) = "
                f"**{x['vs_in_process'] * 100:.0f}%** of in-process (goal ≥ 50%: "
                f"{'met' if ok else '**not met**'}); worker CPU "
                + ", ".join(f"{c:.1f} s" for c in x["worker_cpu_s"]))
        return (f"{r['readings']:,} readings ({r['sensors']} sensors, batches of 1,000) "
                "preloaded, then the workers start:\n\n- " + "\n- ".join(rows))
    if part == "latency":
        a, f, ld = r["accepted_to_alert_ms"], r["sent_to_alert_ms"], r["load"]
        cpu = ", ".join(f"{k} {v:.2f}" for k, v in r["cpu_cores"].items())
        ok = a["p99"] <= 1000  # over the alerted spikes; how many were is shown apart
        every = cfg.latency_every_s
        return (f"target {r['rate_target_per_s']:,} readings/s ({cfg.latency_sensors} sensors "
                f"× {cfg.latency_hz}/s, one request per sensor every {every} s = "
                f"{cfg.latency_sensors / every:,.0f}/s requests of {cfg.latency_hz * every} "
                f"readings) for {cfg.latency_s} s, "
                f"{cfg.latency_clients} client threads: {ld['sent']:,} of "
                f"{ld['scheduled']:,} requests sent, {ld['accepted']:,} accepted (statuses "
                f"{ld['statuses']}), achieved "
                f"{_f(ld['achieved_per_s'])} requests/s; send lag behind schedule p50 "
                f"{_f(ld['lag_p50_ms'])} ms, p99 {_f(ld['lag_p99_ms'])} ms, max "
                f"{_f(ld['lag_max_ms'])} ms; POST latency p50 {_f(ld['post_p50_ms'], 1)} ms, "
                f"p99 {_f(ld['post_p99_ms'], 1)} ms. Batches pending 30 s after: "
                f"{r['pending_after']}. CPU in cores: {cpu}.\n\n"
                f"Spikes: {r['spikes_scheduled']} scheduled, {r['spikes_accepted']} "
                f"accepted, **{r['spikes_alerted']} alerted**; other anomaly alerts in the "
                f"run: {r['other_alerts']}. 202 received → alert `created_at`: **p50 "
                f"{_f(a['p50'])} ms, p99 {_f(a['p99'])} ms, max {_f(a['max'])} ms** (goal "
                f"p99 ≤ 1 s: {'met' if ok else '**not met**'}); from the request's send: "
                f"p50 {_f(f['p50'])} ms, p99 {_f(f['p99'])} ms, max {_f(f['max'])} ms.")
    if part == "state":
        return (f"{r['sensors']} sensors × {r['readings_each']:,} real-ish readings "
                f"({r['events']} events detected): checkpoint JSON **mean "
                f"{_f(r['mean_bytes'])} B, max {_f(r['max_bytes'])} B** (min "
                f"{_f(r['min_bytes'])} B; the detectors' part {_f(r['model_part_mean_bytes'])} B"
                f" on average); 100,000 sensors: {_f(r['for_100k_sensors_mb_mean'], 0)} MB "
                f"at the mean, {_f(r['for_100k_sensors_mb_max'], 0)} MB at the max.")
    if part == "memory":
        ld = r["load"]
        return (f"{cfg.memory_sensors} sensors × {cfg.memory_hz} readings/s "
                f"(one request per sensor per second) for {cfg.memory_minutes:g} min: "
                f"{ld['accepted']:,} of {ld['scheduled']:,} requests accepted, send lag "
                f"p99 {_f(ld['lag_p99_ms'])} ms; worker {r['worker_cores']:.2f} cores. "
                f"Worker RSS every 10 s ({len(r['samples'])} samples): **first "
                f"{r['first_mib']:.1f} MiB, last {r['last_mib']:.1f} MiB, max "
                f"{r['max_mib']:.1f} MiB; slope {r['slope_mib_per_min']:+.3f} MiB/min** "
                f"(second half {r['slope_second_half_mib_per_min']:+.3f} MiB/min).")
    raise ValueError(part)


def revision() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=harness.REPO, capture_output=True,
                              text=True, timeout=10).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "predictq", "api",
                "worker", "models")
    return commit + (" (service code modified)" if dirty else "")


def load_avg() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("part", choices=[*PARTS, "all"])
    p.add_argument("--amqp-url", default=DEFAULT_AMQP)
    p.add_argument("--json", type=Path, help="also write the raw figures here")
    for name, default in asdict(Config(amqp_url="", workdir=Path())).items():
        if name in ("amqp_url", "workdir"):
            continue
        p.add_argument("--" + name.replace("_", "-"), type=type(default), default=default)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    reason = harness.amqp_reachable(args.amqp_url)
    if reason is not None:
        raise SystemExit(f"RabbitMQ is not reachable at {args.amqp_url}: {reason}")
    parts = PARTS if args.part == "all" else (args.part,)
    command = "python -m loadtest.stream_bench " + shlex.join(
        sys.argv[1:] if argv is None else list(argv))
    results: dict[str, Any] = {"command": command, "commit": revision()}
    with tempfile.TemporaryDirectory(prefix="predictq-stream-bench-") as tmp:
        fields = {k: getattr(args, k) for k in asdict(Config(amqp_url="", workdir=Path()))
                  if k not in ("amqp_url", "workdir")}
        cfg = Config(amqp_url=args.amqp_url, workdir=Path(tmp), **fields)
        for part in parts:
            before, t0 = load_avg(), time.monotonic()
            when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
            print(f"== {part} (load {before})", flush=True)
            r = RUNNERS[part](cfg)
            r["load_before"], r["load_after"] = before, load_avg()
            r["seconds"], r["when"] = time.monotonic() - t0, when
            results[part] = r
            print(f"\n**{part}** — `{command}`, commit {results['commit']}, {when}, load "
                  f"average {before} at the start, {r['load_after']} at the end "
                  f"({r['seconds']:.0f} s)\n\n{render(part, r, cfg)}\n", flush=True)
            if args.json:
                args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
