"""Stream chaos: each reading's effect is applied exactly once, under kill -9.

Runs the API and stream-only workers (`predictq worker --family stream`) as real
processes on a fresh SQLite store and either the embedded broker (no
PREDICTQ_BROKER_URL) or RabbitMQ (`--amqp`, queues under a unique prefix, deleted
afterwards), and posts a fixed, seeded workload of sensor readings: ~30 sensors of
1,500-3,000 readings one second apart, each with several steps up to a high level (events)
and a few isolated spikes (anomaly alerts). Twice:

  reference   one stream worker, nothing killed
  chaos       two stream workers; while posting, every 1.5-3 s one of them (in turn)
              gets SIGKILL and a replacement is started

Each run waits until every sensor's `pending_batches` is 0 and then reads, from the
store, the events (sensor, event id, start, end), the alerts (sensor, alert id, kind, t),
the per-sensor counters and the classification jobs of the events. The two runs must
agree exactly (tests/e2e/test_stream_crash.py asserts it):

    python -m loadtest.stream_chaos            # embedded broker
    python -m loadtest.stream_chaos --amqp     # RabbitMQ at PREDICTQ_TEST_AMQP_URL
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from predictq.settings import Settings
from predictq.store import open_store

AMQP_URL = os.environ.get("PREDICTQ_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
SEED = 20261127
SENSORS = 30
POSTERS = 4
DRAIN_TIMEOUT_S = 120.0
BUSY_WAIT_S = 1.5  # how long a kill waits for its victim to be in the middle of a pass
# Reading times: a fixed offset from a recent hour, so that retention (by reading time)
# never deletes them while a run is going, and the same for both runs of one process.
T0 = (int(time.time()) // 3600 - 6) * 3600

Readings = list[tuple[float, float]]


def workload(seed: int = SEED, sensors: int = SENSORS) -> dict[str, Readings]:
    """Per sensor: 1,500-3,000 readings 1 s apart around a quiet base level, with steps
    up to a high level for 100-300 readings (events) and a few isolated spikes."""
    rng = random.Random(seed)
    out: dict[str, Readings] = {}
    for s in range(sensors):
        n = rng.randint(1500, 3000)
        base = rng.uniform(50, 150)
        noise = rng.uniform(1, 3)
        values = [base + rng.gauss(0, noise) for _ in range(n)]
        pos = 300
        while pos < n - 500:
            length = rng.randint(100, 300)
            level = base + rng.uniform(800, 2000)
            for i in range(pos, pos + length):
                values[i] = level + rng.gauss(0, noise * 3)
            pos += length + rng.randint(250, 500)
        for _ in range(rng.randint(2, 4)):
            i = rng.randint(200, n - 50)
            values[i] += rng.choice([-1, 1]) * rng.uniform(40, 80) * noise
        out[f"sensor-{s:02d}"] = [(float(T0 + i), round(v, 4)) for i, v in enumerate(values)]
    return out


def plan(load: dict[str, Readings], seed: int = SEED,
         posters: int = POSTERS) -> list[list[tuple[str, Readings]]]:
    """Per posting thread, its requests in order: each sensor belongs to one thread (its
    readings must arrive in order), and a thread interleaves its sensors' requests of
    50-200 readings."""
    rng = random.Random(seed + 1)
    lanes: list[list[tuple[str, Readings]]] = []
    sensors = sorted(load)
    for lane in range(posters):
        mine = {s: 0 for s in sensors[lane::posters]}
        requests = []
        while mine:
            for sensor in list(mine):
                at = mine[sensor]
                size = rng.randint(50, 200)
                requests.append((sensor, load[sensor][at:at + size]))
                if at + size >= len(load[sensor]):
                    del mine[sensor]
                else:
                    mine[sensor] = at + size
        lanes.append(requests)
    return lanes


def _cpu_ticks(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # utime + stime


def _wait_until_busy(pid: int, timeout_s: float) -> bool:
    """Wait (at most `timeout_s`) for the process to be computing, not waiting for a
    message: at least 2 clock ticks of CPU within 30 ms. An idle stream worker uses a
    tick now and then; one in a pass uses them all. A kill then lands inside a pass:
    between reading a sensor's batches, creating its events' jobs and writing the
    checkpoint, or before the wake-ups are acked. False if it never was (or no /proc)."""
    deadline = time.monotonic() + timeout_s
    before = _cpu_ticks(pid)
    while before is not None and time.monotonic() < deadline:
        time.sleep(0.03)
        now = _cpu_ticks(pid)
        if now is not None and now - before >= 2:
            return True
        before = now
    return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """The API and the stream workers as real processes, each killable."""

    def __init__(self, workdir: Path, broker_url: str = "", prefix: str = "predictq") -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "cluster.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 - lives as long as we do
        (workdir / "models").mkdir(exist_ok=True)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PREDICTQ_")},
            "PREDICTQ_DATA_DIR": str(workdir / "var"),
            # No artifact: the events' `appliance` jobs are created and queued, never run.
            "PREDICTQ_MODEL_DIR": str(workdir / "models"),
            "PREDICTQ_BROKER_URL": broker_url,
            "PREDICTQ_QUEUE_PREFIX": prefix,
            "PREDICTQ_PORT": str(self.port),
            "PREDICTQ_SWEEP_AFTER_S": "3",
            "PREDICTQ_SWEEP_INTERVAL_S": "1",
        }
        self.settings = Settings.from_env(self.env)
        self.api: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []

    def _spawn(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "predictq", *args], env=self.env,
                                stdout=self.log, stderr=subprocess.STDOUT)

    def start_api(self) -> None:
        self.api = self._spawn("api")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.api.poll() is not None:
                raise RuntimeError(f"the API exited; see {self.log_path}")
            try:
                urllib.request.urlopen(self.url + "/v1/sensors", timeout=2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the API did not start; see {self.log_path}")

    def start_worker(self) -> subprocess.Popen:
        proc = self._spawn("worker", "--family", "stream")
        self.workers.append(proc)
        return proc

    @staticmethod
    def kill(proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()  # reaped: a zombie would still look alive to the embedded sweeper

    def stop_all(self) -> None:
        procs = [p for p in [*self.workers, self.api] if p is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.log.close()

    def unacked_of(self, pid: int) -> int | None:
        """The wake-ups a dead worker had received and not acked, on the embedded
        broker (until a sweeper moves them back); None on RabbitMQ."""
        if not self.settings.uses_embedded_broker:
            return None
        folder = self.settings.queue_dir / "claimed" / f"{socket.gethostname()}-{pid}"
        try:
            return sum(1 for _ in folder.iterdir())
        except OSError:
            return 0

    def sensors(self) -> list[dict]:
        with urllib.request.urlopen(self.url + "/v1/sensors?limit=1000", timeout=10) as r:
            return json.loads(r.read())["sensors"]

    def post(self, sensor: str, readings: Readings) -> None:
        body = json.dumps({"readings": [{"t": t, "value": v} for t, v in readings]}).encode()
        req = urllib.request.Request(f"{self.url}/v1/sensors/{sensor}/readings", data=body,
                                     headers={"Content-Type": "application/json"})
        for attempt in range(20):
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    r.read()
                    return
            except urllib.error.HTTPError as exc:
                if exc.code < 500:
                    raise RuntimeError(f"POST {sensor}: {exc.code} {exc.read()!r}") from exc
            except OSError:
                pass
            # A resend is harmless: readings already accepted count as duplicates.
            time.sleep(min(0.1 * 2 ** attempt, 2.0))
        raise RuntimeError(f"POST {sensor} kept failing")


@dataclass
class Outcome:
    """What a run left in the store, plus how the run went."""

    events: set[tuple[str, str, float, float]]
    alerts: set[tuple[str, str, str, float]]
    sensors: dict[str, dict]  # sensor id -> its GET /v1/sensors entry, read from the store
    jobs: list[tuple[str, float, str]]  # (sensor id, event start, tracking id) per job
    event_tracking: dict[str, str | None]  # event id -> the tracking id it records
    posted: dict[str, int]
    kills: int = 0
    busy_kills: int = 0  # kills of a worker caught using the CPU (in a pass)
    # Kills of a worker holding unacked wake-ups (its batch not yet applied and acked);
    # counted on the embedded broker only, where they are files in its claimed folder.
    interrupted: int | None = None
    post_s: float = 0.0
    drain_s: float = 0.0
    max_stall_s: float = 0.0  # longest a sensor with pending batches made no progress
    pending_left: dict[str, int] = field(default_factory=dict)  # drain timed out


def _collect(cluster: Cluster, posted: dict[str, int]) -> Outcome:
    store = open_store(cluster.settings.resolved_store_url)
    try:
        events = store.sensors.events(limit=100_000)
        alerts = store.sensors.alerts(limit=100_000)
        jobs = store.list_recent(limit=100_000, model=cluster.settings.event_model)
        sensors = {s.sensor_id: s.to_public() for s in store.sensors.list_sensors(limit=1000)}
    finally:
        store.close()
    (cluster.log_path.parent / "sensors.json").write_text(json.dumps(sensors, indent=1))
    return Outcome(
        events={(e.sensor_id, e.event_id, e.start_t, e.end_t) for e in events},
        alerts={(a.sensor_id, a.alert_id, a.kind, a.t) for a in alerts},
        sensors=sensors,
        jobs=[(j.input["sensor_id"], j.input["timestamp"], j.tracking_id) for j in jobs],
        event_tracking={e.event_id: e.tracking_id for e in events},
        posted=posted)


class _Progress(threading.Thread):
    """Polls GET /v1/sensors: the longest a sensor with pending batches went without its
    applied reading time moving (what a takeover after a kill costs, at most)."""

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(daemon=True)
        self.cluster = cluster
        self.stop = threading.Event()
        self.max_stall_s = 0.0

    def run(self) -> None:
        since: dict[str, tuple[float | None, float]] = {}
        while not self.stop.wait(0.25):
            try:
                sensors = self.cluster.sensors()
            except OSError:
                continue
            now = time.monotonic()
            for s in sensors:
                applied = s["readings_applied_until_t"]
                last = since.get(s["sensor_id"])
                if s["pending_batches"] == 0 or last is None or last[0] != applied:
                    since[s["sensor_id"]] = (applied, now)
                else:
                    self.max_stall_s = max(self.max_stall_s, now - last[1])


def run(workdir: Path, broker_url: str = "", prefix: str = "predictq", *,
        workers: int = 1, chaos: bool = False, post_s: float = 0.0,
        drain_timeout_s: float = DRAIN_TIMEOUT_S, log=print) -> Outcome:
    """One run: post the workload (paced over `post_s` if given) with `workers` stream
    workers, killing one every 1.5-3 s while posting if `chaos`, then wait for every
    sensor's pending batches to be applied."""
    load = workload()
    lanes = plan(load)
    posted = {s: len(r) for s, r in load.items()}
    cluster = Cluster(workdir, broker_url, prefix)
    kills = interrupted = busy_kills = 0
    try:
        cluster.start_api()
        for _ in range(workers):
            cluster.start_worker()
        progress = _Progress(cluster)
        progress.start()
        errors: list[BaseException] = []

        def poster(requests: list[tuple[str, Readings]]) -> None:
            started = time.monotonic()
            try:
                for i, (sensor, readings) in enumerate(requests):
                    if post_s:
                        time.sleep(max(0.0, started + post_s * i / len(requests)
                                       - time.monotonic()))
                    cluster.post(sensor, readings)
            except BaseException as exc:  # reported by the caller
                errors.append(exc)

        def killer() -> None:
            nonlocal kills, interrupted, busy_kills
            rng = random.Random(SEED + 2)
            while not stop_killing.wait(rng.uniform(1.5, 3.0)):
                alive = [p for p in cluster.workers if p.poll() is None]
                if not alive:
                    break
                target = alive[0]  # the oldest: the two workers' lines take turns
                busy = _wait_until_busy(target.pid, BUSY_WAIT_S)
                cluster.kill(target)
                held = cluster.unacked_of(target.pid)
                cluster.start_worker()
                kills += 1
                busy_kills += busy
                if held:
                    interrupted += 1
                log(f"  kill {kills}: worker pid {target.pid}"
                    f"{' computing' if busy else ' idle'}"
                    f"{'' if held is None else f', holding {held} unacked wake-up(s)'}; "
                    "replacement started")

        stop_killing = threading.Event()
        killer_thread = threading.Thread(target=killer, daemon=True) if chaos else None
        started = time.monotonic()
        threads = [threading.Thread(target=poster, args=(lane,)) for lane in lanes]
        for t in threads:
            t.start()
        if killer_thread is not None:
            killer_thread.start()
        for t in threads:
            t.join()
        stop_killing.set()
        if killer_thread is not None:
            killer_thread.join()
        post_done = time.monotonic()
        if errors:
            raise RuntimeError(f"posting failed: {errors[0]!r}") from errors[0]
        deadline = post_done + drain_timeout_s
        pending: dict[str, int] = {}
        while time.monotonic() < deadline:
            sensors = cluster.sensors()
            pending = {s["sensor_id"]: s["pending_batches"] for s in sensors
                       if s["pending_batches"]}
            if len(sensors) == len(load) and not pending:
                break
            time.sleep(0.5)
        drained = time.monotonic()
        progress.stop.set()
        progress.join()
        outcome = _collect(cluster, posted)
        outcome.kills = kills
        outcome.busy_kills = busy_kills
        outcome.interrupted = interrupted if cluster.settings.uses_embedded_broker else None
        outcome.post_s = post_done - started
        outcome.drain_s = drained - post_done
        outcome.max_stall_s = progress.max_stall_s
        outcome.pending_left = pending
        return outcome
    finally:
        cluster.stop_all()


def delete_queues(broker_url: str, prefix: str) -> None:
    """Every queue and the exchange a run under `prefix` declared on RabbitMQ."""
    from kombu import Connection

    from predictq import topology

    settings = Settings(broker_url=broker_url, queue_prefix=prefix)
    with Connection(broker_url) as conn:
        channel = conn.channel()
        queues = [*topology.partition_queues(settings), topology.dead_letter_queue(settings),
                  *(topology.queue_for(settings, f) for f in topology.FAMILIES)]
        for queue in queues:
            queue(channel).delete()
        topology.exchange(settings)(channel).delete()


def compare(reference: Outcome, chaos: Outcome) -> list[str]:
    """What the chaos run got wrong, judged against the reference; [] if nothing."""
    problems = []
    if chaos.pending_left:
        problems.append(f"sensors still pending after the drain: {chaos.pending_left}")
    if chaos.events != reference.events:
        problems.append(f"events differ: missing {sorted(reference.events - chaos.events)}"
                        f", extra {sorted(chaos.events - reference.events)}")
    if chaos.alerts != reference.alerts:
        problems.append(f"alerts differ: missing {sorted(reference.alerts - chaos.alerts)}"
                        f", extra {sorted(chaos.alerts - reference.alerts)}")
    for sensor, n in chaos.posted.items():
        info = chaos.sensors.get(sensor)
        ref = reference.sensors.get(sensor) or {}
        if info is None or info["readings"] != n:
            problems.append(f"{sensor}: {None if info is None else info['readings']} "
                            f"readings stored, {n} posted")
            continue
        for counter in ("events", "anomalies", "alerts"):
            if info[counter] != ref.get(counter):
                problems.append(f"{sensor}: {counter} {info[counter]} after the chaos run, "
                                f"{ref.get(counter)} in the reference")
    for name, outcome in (("reference", reference), ("chaos", chaos)):
        keys = [(s, t) for s, t, _ in outcome.jobs]
        if len(keys) != len(set(keys)):
            problems.append(f"{name}: more than one job for an event: "
                            f"{sorted(k for k in set(keys) if keys.count(k) > 1)}")
        tracked = {e for e in outcome.event_tracking.values() if e is not None}
        if {tid for _, _, tid in outcome.jobs} != tracked:
            problems.append(f"{name}: the events' tracking ids are not the jobs' ids")
    if sorted((s, t) for s, t, _ in chaos.jobs) != sorted((s, t) for s, t, _ in reference.jobs):
        problems.append(f"jobs differ: {len(chaos.jobs)} after the chaos run, "
                        f"{len(reference.jobs)} in the reference")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--amqp", action="store_true", help="RabbitMQ instead of embedded")
    parser.add_argument("--post-s", type=float, default=16.0,
                        help="spread the chaos run's posting over this long")
    args = parser.parse_args(argv)
    broker = AMQP_URL if args.amqp else ""
    with tempfile.TemporaryDirectory(prefix="predictq-stream-chaos-") as tmp:
        prefixes = [f"sc{uuid.uuid4().hex[:10]}" for _ in range(2)]
        try:
            ref = run(Path(tmp) / "reference", broker, prefixes[0], workers=1)
            print(f"reference: {len(ref.events)} events, {len(ref.alerts)} alerts, "
                  f"{len(ref.jobs)} jobs, drained {ref.drain_s:.1f} s after posting")
            chaos = run(Path(tmp) / "chaos", broker, prefixes[1], workers=2, chaos=True,
                        post_s=args.post_s)
        finally:
            if args.amqp:
                for prefix in prefixes:
                    delete_queues(broker, prefix)
        print(f"chaos: {chaos.kills} kills ({chaos.busy_kills} computing, "
              f"{chaos.interrupted} holding unacked wake-ups), {len(chaos.events)} events, "
              f"{len(chaos.alerts)} alerts, posting {chaos.post_s:.1f} s, drained "
              f"{chaos.drain_s:.1f} s after, longest stall {chaos.max_stall_s:.1f} s")
        problems = compare(ref, chaos)
        for p in problems:
            print("PROBLEM:", p)
        print("OK" if not problems else "FAILED")
        return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
