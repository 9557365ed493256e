"""Chaos test: accepted means never lost, under crashes, restarts and a broker outage.

Runs the API (gunicorn) and two one-by-one workers as real processes on RabbitMQ and a
fresh SQLite store (or the store --store-url names), submits TOTAL single predictions
over HTTP from several threads, and meanwhile:

  at 20% of submissions  kill -9 worker 1, restart it 2 s later
  at 40%                 rabbitmqctl stop_app; submissions go on; start_app 5 s later
  at 65%                 kill -9 the API, restart it 2 s later

Afterwards every tracking_id that got a 202 must reach done or failed within the bound:
0 lost, 0 stuck. Prints the counts as JSON; exits 1 if anything was lost or stuck.

    python loadtest/chaos.py --total 10000 --rate 100   # full size (docs/RELIABILITY.md)
    python loadtest/chaos.py --total 400 --rate 25      # what the test suite runs
    python loadtest/chaos.py --total 400 --rate 25 --store-url mongodb://host/fresh_db
    python loadtest/chaos.py --node-loss --total 10000 --rate 100  # a 3-node cluster

Needs a local RabbitMQ it may stop and start (rabbitmqctl on PATH, as root or the
rabbitmq user) at PREDICTQ_TEST_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672//).
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
from dataclasses import asdict, dataclass, field
from pathlib import Path

from predictq.jobs import Status
from predictq.store import open_store

AMQP_URL = os.environ.get("PREDICTQ_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
TEXTS = [
    "Jag tycker om att läsa böcker på kvällarna.",
    "Ich lese abends gern Bücher, wenn es draußen regnet.",
    "Me gusta leer libros por la noche cuando llueve.",
    "Я люблю читать книги по вечерам, когда идёт дождь.",
    "夜は静かな部屋で本を読むのが好きです。",
    "أحب قراءة الكتب في المساء عندما يكون الجو هادئا.",
]


@dataclass
class Report:
    total: int
    accepted: int = 0
    refused: int = 0
    # Refusals outside the API's own outage: the broker outage and worker crashes must
    # refuse nothing (the store is the outbox), so this must stay 0.
    refused_while_api_up: int = 0
    done: int = 0
    failed: int = 0
    lost: int = 0
    stuck: int = 0
    redelivered: int = 0
    duplicates_suppressed: int = 0
    republished: int = 0
    broker_outage_s: float = 0.0
    outbox_drained_after_broker_back_s: float | None = None
    all_final_after_last_submit_s: float | None = None
    events: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.lost == 0 and self.stuck == 0 and self.accepted > 0
                and self.refused_while_api_up == 0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """The processes under test, each restartable."""

    def __init__(self, workdir: Path, prefix: str, store_url: str = "",
                 model_dir: Path | None = None, broker_url: str = AMQP_URL,
                 **settings: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.metrics_dir = workdir / "metrics"
        self.metrics_dir.mkdir()
        self.log = open(workdir / "cluster.log", "w")  # noqa: SIM115 - lives as long as we do
        self.env = {
            **os.environ,
            "PREDICTQ_DATA_DIR": str(workdir / "var"),
            "PREDICTQ_BROKER_URL": broker_url,
            "PREDICTQ_QUEUE_PREFIX": prefix,
            "PREDICTQ_PORT": str(self.port),
            "PREDICTQ_SWEEP_AFTER_S": "5",
            "PREDICTQ_SWEEP_INTERVAL_S": "1",
            "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
        }
        self.env.update({f"PREDICTQ_{k.upper()}": v for k, v in settings.items()})
        if store_url:
            self.env["PREDICTQ_STORE_URL"] = store_url
        if model_dir is not None:
            self.env["PREDICTQ_MODEL_DIR"] = str(model_dir)
        self.api: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen | None] = [None, None]

    def _spawn(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "predictq", *args], env=self.env,
                                stdout=self.log, stderr=subprocess.STDOUT)

    def start_api(self) -> None:
        self.api = self._spawn("api")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/v1/models", timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the API did not start")

    def start_worker(self, i: int) -> None:
        self.workers[i] = self._spawn("worker", "--batch-size", "1")

    def kill(self, proc: subprocess.Popen | None) -> None:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()

    def stop_all(self) -> None:
        for proc in [*self.workers, self.api]:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in [*self.workers, self.api]:
            if proc is not None:
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        self.log.close()

    def counter(self, name: str) -> int:
        try:
            text = urllib.request.urlopen(self.url + "/metrics", timeout=5).read().decode()
        except OSError:
            return -1
        return int(sum(float(v) for v in re.findall(rf"^{name}_total(?:{{[^}}]*}})? (\S+)$",
                                                     text, re.M)))


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


def run(total: int, rate: float = 100.0, threads: int = 8,
        settle_timeout_s: float = 180.0, store_url: str = "",
        model_dir: Path | None = None) -> Report:
    """`store_url`: the store under test, empty for a fresh SQLite file (a MongoDB URL
    should name a database of its own). `model_dir`: trained models to use; without it
    the `language` model is trained first."""
    report = Report(total=total)
    prefix = f"chaos{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="predictq-chaos-") as tmp:
        workdir = Path(tmp)
        cluster = Cluster(workdir, prefix, store_url, model_dir)
        store = open_store(store_url or f"sqlite:///{workdir / 'var' / 'predictq.db'}")
        if model_dir is None:
            subprocess.run([sys.executable, "-m", "predictq", "train", "language"],
                           env=cluster.env, check=True, capture_output=True)
        cluster.start_api()
        cluster.start_worker(0)
        cluster.start_worker(1)
        accepted: list[str] = []
        refused_at: list[float] = []
        api_down: list[float] = []  # [killed, serving again]
        lock = threading.Lock()
        sent = 0
        counter_lock = threading.Lock()

        started = time.monotonic()

        def next_index() -> int | None:
            # Paced, so submissions keep arriving through every fault, not just before.
            nonlocal sent
            with counter_lock:
                if sent >= total:
                    return None
                sent += 1
                due = started + sent / rate
            time.sleep(max(0.0, due - time.monotonic()))
            return sent

        def submitter() -> None:
            while (i := next_index()) is not None:
                body = json.dumps({"model": "language",
                                   "input": {"text": TEXTS[i % len(TEXTS)]}}).encode()
                req = urllib.request.Request(cluster.url + "/v1/predictions", data=body,
                                             headers={"Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(req, timeout=10) as r:
                        tid = json.loads(r.read())["tracking_id"]
                    with lock:
                        accepted.append(tid)
                except (OSError, urllib.error.HTTPError):
                    with lock:
                        refused_at.append(time.monotonic())

        def chaos() -> None:
            def at(fraction: float) -> None:
                while sent < total * fraction:
                    time.sleep(0.01)

            at(0.20)
            cluster.kill(cluster.workers[0])
            report.events.append(f"{time.monotonic():.1f} kill -9 worker 1")
            time.sleep(2)
            cluster.start_worker(0)
            at(0.40)
            down = time.monotonic()
            _rabbitmqctl("stop_app")
            report.events.append(f"{down:.1f} rabbitmqctl stop_app")
            time.sleep(5)
            _rabbitmqctl("start_app")
            back = time.monotonic()
            report.broker_outage_s = round(back - down, 1)
            report.events.append(f"{back:.1f} rabbitmqctl start_app")
            threading.Thread(target=watch_outbox, args=(back,), daemon=True).start()
            at(0.65)
            api_down.append(time.monotonic())
            cluster.kill(cluster.api)
            report.events.append(f"{api_down[0]:.1f} kill -9 api")
            time.sleep(2)
            cluster.start_api()
            api_down.append(time.monotonic())
            report.events.append(f"{api_down[1]:.1f} api restarted")

        def watch_outbox(back: float) -> None:
            while time.monotonic() - back < settle_timeout_s:
                if not store.unpublished(older_than=time.time()):
                    report.outbox_drained_after_broker_back_s = round(
                        time.monotonic() - back, 1)
                    return
                time.sleep(0.2)

        chaos_thread = threading.Thread(target=chaos)
        chaos_thread.start()
        pool = [threading.Thread(target=submitter) for _ in range(threads)]
        try:
            for t in pool:
                t.start()
            for t in pool:
                t.join()
            chaos_thread.join()
            last_submit = time.monotonic()
            report.accepted = len(accepted)
            report.refused = len(refused_at)
            down, up = api_down if len(api_down) == 2 else (float("inf"), float("inf"))
            report.refused_while_api_up = sum(1 for t in refused_at if not down <= t <= up)
            deadline = last_submit + settle_timeout_s
            while time.monotonic() < deadline:
                jobs = {j.tracking_id: j for j in _all(store, accepted)}
                final = sum(1 for j in jobs.values() if j.status.is_final)
                if final == len(accepted):
                    report.all_final_after_last_submit_s = round(
                        time.monotonic() - last_submit, 1)
                    break
                time.sleep(0.5)
            jobs = {j.tracking_id: j for j in _all(store, accepted)}
            report.lost = sum(1 for tid in accepted if tid not in jobs)
            report.done = sum(1 for j in jobs.values() if j.status is Status.DONE)
            report.failed = sum(1 for j in jobs.values() if j.status is Status.FAILED)
            report.stuck = sum(1 for j in jobs.values() if not j.status.is_final)
            report.redelivered = cluster.counter("predictq_redeliveries")
            report.duplicates_suppressed = cluster.counter("predictq_duplicates_suppressed")
            report.republished = cluster.counter("predictq_republished")
        finally:
            try:
                _rabbitmqctl("start_app")  # never leave the broker down
            finally:
                cluster.stop_all()
                store.close()
                _delete_queues(prefix)
    return report


def _all(store, ids: list[str]):
    for start in range(0, len(ids), 500):
        yield from store.get_many(ids[start:start + 500])


def _delete_queues(prefix: str) -> None:
    from kombu import Connection

    try:
        with Connection(AMQP_URL) as conn:
            channel = conn.channel()
            for suffix in ("text", "sensor", "dead"):
                channel.queue_delete(f"{prefix}.{suffix}")
            channel.exchange_delete(prefix)
    except Exception as exc:  # cleanup must not hide the result
        print(f"warning: could not delete the test queues: {exc}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description="predictq chaos test")
    parser.add_argument("--total", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=100.0,
                        help="submissions per second, all threads together")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--store-url", default="",
                        help="store under test (default: a fresh SQLite file); a MongoDB "
                             "URL should name a database of its own")
    parser.add_argument("--node-loss", action="store_true",
                        help="instead: a 3-node RabbitMQ cluster started here, quorum "
                             "queues, leader kills and a paused node (loadtest/node_loss.py)")
    args = parser.parse_args()
    started = time.monotonic()
    if args.node_loss:
        from loadtest import node_loss

        report = node_loss.run(args.total, args.rate, args.threads, store_url=args.store_url)
    else:
        report = run(args.total, args.rate, args.threads, store_url=args.store_url)
    out = {**asdict(report), "ok": report.ok, "wall_s": round(time.monotonic() - started, 1)}
    print(json.dumps(out, indent=2))
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
