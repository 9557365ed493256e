"""Completion-callback benchmark: N jobs with a callback_url, a local receiver that is
down for a while in the middle, and what arrived.

Real processes, started the way loadtest/harness.py starts them (settings only through
the environment, a fresh data dir in a temporary folder, a unique queue prefix whose
queues are deleted afterwards): `predictq api`, --workers `predictq worker`s (each runs
the callback deliverer), and the receiver (loadtest/callback_receiver.py) as its own
process, which verifies every signature and appends every arrival to a file before it
answers. Traffic goes to 127.0.0.1 only.

Jobs are submitted open-loop at --rate per second (batches of --batch, one
callback_url per batch) until --jobs are in; --outage-at seconds after the first
submission the receiver is killed (SIGKILL: refused connections, and any request it was
answering lost), and --outage-s later it is started again on the same port. Then the
run waits until every job's callback has arrived (or --timeout).

Reported: jobs submitted and arrived (every tracking id at least once, answered 200),
duplicates (a tracking id arriving again after a 200) and whether each carried a retry
reason (`X-Predictq-Retry-Reason`), signatures that failed, delivery latency (arrival
at the receiver - the job's `updated_at`, when it became final) p50/p99 for first
attempts of jobs finished while the receiver was up before the outage, and for those
finished after it was back (queued behind the retries falling due then); how long after
its return the last retried callback, and the last of all, arrived.

    python -m loadtest.callback_bench                     # RabbitMQ, 10,000 jobs
    python -m loadtest.callback_bench --broker embedded   # file-system broker

Needs RabbitMQ for the default broker (PREDICTQ_TEST_AMQP_URL or --amqp-url).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

from loadtest import harness
from loadtest.harness import Processes
from loadtest.stats import percentile

DEFAULT_AMQP = os.environ.get("PREDICTQ_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
SECRET = "callback-bench-secret-0123456789"
TEXTS = ["Hello, how are you today?", "Bonjour, comment allez-vous ?",
         "Hola, ¿cómo estás hoy?", "Guten Tag, wie geht es Ihnen?",
         "Buongiorno, come stai oggi?", "Olá, como você está hoje?"]


class ReceiverProcess:
    """The receiver as a child process, killed and restarted on one port."""

    def __init__(self, port: int, out: Path, log_dir: Path) -> None:
        self.port, self.out, self.log_dir = port, out, log_dir
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = open(self.log_dir / f"receiver-{self.starts}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "loadtest.callback_receiver", "--port", str(self.port),
             "--secret", SECRET, "--out", str(self.out)],
            env=harness.base_env(), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if (self.log_dir / f"receiver-{self.starts}.log").read_text().startswith(
                    "listening"):
                return
            if self.proc.poll() is not None:
                raise RuntimeError("the receiver exited at start")
            time.sleep(0.02)
        raise TimeoutError("the receiver did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def arrivals(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(ValueError):
            out.append(json.loads(line))
    return out


def iso_seconds(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def submit(base_url: str, callback_url: str, n: int, rate: float, batch: int,
           ids: list[str], started: threading.Event, errors: list[str]) -> None:
    """Open loop: a batch every batch/rate seconds, each on its own thread so a slow
    answer does not delay the schedule."""
    interval = batch / rate
    t0 = time.monotonic()
    threads = []
    lock = threading.Lock()

    def post(count: int, k: int) -> None:
        body = json.dumps({"model": "language", "callback_url": callback_url,
                           "inputs": [{"text": TEXTS[(k + i) % len(TEXTS)]}
                                      for i in range(count)]}).encode()
        request = urllib.request.Request(base_url + "/v1/predictions/batch", data=body,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                got = json.load(r)["tracking_ids"]
            with lock:
                ids.extend(got)
        except Exception as exc:  # reported, not retried: the figure must show it
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")

    sent, k = 0, 0
    started.set()
    while sent < n:
        delay = t0 + k * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        count = min(batch, n - sent)
        thread = threading.Thread(target=post, args=(count, sent), daemon=True)
        thread.start()
        threads.append(thread)
        sent += count
        k += 1
    for thread in threads:
        thread.join(90)


def analyse(records: list[dict[str, Any]], ids: list[str], down: float, up: float
            ) -> dict[str, Any]:
    by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in sorted(records, key=lambda r: r["at"]):
        by_id[r["tracking_id"]].append(r)
    wanted = set(ids)
    taken = {tid for tid, rs in by_id.items() if any(r["status"] == 200 for r in rs)}
    duplicates, unexplained, reasons = 0, 0, defaultdict(int)
    for rs in by_id.values():
        for previous, current in itertools.pairwise(rs):
            duplicates += 1
            reason = current.get("retry_reason")
            if not reason or current["delivery"] <= previous["delivery"]:
                unexplained += 1
            reasons[(reason or "none").split(":")[0]] += 1
    before, after = [], []
    for rs in by_id.values():
        first = rs[0]
        if first["delivery"] != 1 or not first["body"].get("updated_at"):
            continue
        finished = iso_seconds(first["body"]["updated_at"])
        latency = first["at"] - finished
        if finished < down - 1:
            before.append(latency)
        elif finished > up:
            after.append(latency)
    last = max((r["at"] for r in records), default=up)
    last_retried = max((r["at"] for r in records if r["delivery"] > 1), default=up)

    def ms(values: list[float], q: float) -> float | None:
        return round(percentile(values, q) * 1000, 1) if values else None

    return {
        "submitted": len(ids), "arrived": len(wanted & taken),
        "missing": len(wanted - taken), "strangers": len(set(by_id) - wanted),
        "arrivals": len(records), "duplicates": duplicates,
        "duplicates_without_reason": unexplained, "duplicate_reasons": dict(reasons),
        "bad_signatures": sum(1 for r in records if not r["signature_ok"]),
        "retried": sum(1 for rs in by_id.values() if rs[0]["delivery"] > 1),
        "latency_before_ms": {"n": len(before), "p50": ms(before, 50), "p99": ms(before, 99),
                              "max": ms(before, 100)},
        "latency_after_ms": {"n": len(after), "p50": ms(after, 50), "p99": ms(after, 99),
                             "max": ms(after, 100)},
        "last_arrival_after_back_s": round(last - up, 1),
        # When the backlog of retries had gone out (backoff: 1, 2, 4, 8, 16 s ...).
        "last_retried_arrival_after_back_s": round(last_retried - up, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.callback_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=250.0, help="submissions/s")
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--outage-at", type=float, default=15.0)
    parser.add_argument("--outage-s", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--broker", choices=("amqp", "embedded"), default="amqp")
    parser.add_argument("--amqp-url", default=DEFAULT_AMQP)
    parser.add_argument("--model-dir", type=Path, default=None,
                        help="a trained model folder; default: train `language` afresh")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--logs", type=Path, default=None,
                        help="copy the processes' logs here at the end")
    args = parser.parse_args(argv)
    if args.broker == "amqp":
        problem = harness.amqp_reachable(args.amqp_url)
        if problem:
            parser.error(f"RabbitMQ: {problem}")
    with tempfile.TemporaryDirectory(prefix="cbbench-") as tmp:
        workdir = Path(tmp)
        model_dir = args.model_dir
        if model_dir is None:
            from models.registry import get_spec
            model_dir = workdir / "models"
            print("training language ...", flush=True)
            get_spec("language").train(model_dir, lambda *a: None)
        result = run(args, workdir, model_dir)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    ok = result["missing"] == 0 and result["duplicates_without_reason"] == 0
    return 0 if ok else 1


def run(args: argparse.Namespace, workdir: Path, model_dir: Path) -> dict[str, Any]:
    prefix = harness.unique_prefix("callbacks")
    port, receiver_port = harness.free_port(), harness.free_port()
    broker = args.amqp_url if args.broker == "amqp" else ""
    env = harness.child_env(workdir / "data", prefix=prefix, model_dir=model_dir,
                            broker_url=broker, port=port, callback_allow="127.0.0.1:*",
                            callback_secret=SECRET, queue_type="classic")
    base_url = f"http://127.0.0.1:{port}"
    callback_url = f"http://127.0.0.1:{receiver_port}/hook"
    out = workdir / "arrivals.jsonl"
    log_dir = workdir / "logs"
    log_dir.mkdir()
    receiver = ReceiverProcess(receiver_port, out, log_dir)
    try:
        with Processes(log_dir) as procs:
            procs.spawn("api", ["api"], env)
            harness.wait_api(base_url, procs, int(env.get("PREDICTQ_API_WORKERS", 2)))
            for i in range(args.workers):
                procs.spawn(f"worker-{i}", ["worker"], env)
            harness.wait_consumers(base_url, prefix, args.workers, procs)
            receiver.start()
            ids: list[str] = []
            errors: list[str] = []
            started = threading.Event()
            submitter = threading.Thread(
                target=submit, args=(base_url, callback_url, args.jobs, args.rate,
                                     args.batch, ids, started, errors), daemon=True)
            t0 = time.time()
            submitter.start()
            started.wait()
            time.sleep(max(0.0, t0 + args.outage_at - time.time()))
            down = time.time()
            receiver.kill()
            print(f"receiver down at {down - t0:.1f} s", flush=True)
            time.sleep(args.outage_s)
            receiver.start()
            up = time.time()
            print(f"receiver back at {up - t0:.1f} s", flush=True)
            submitter.join()
            print(f"{len(ids)} submitted in {time.time() - t0:.1f} s, "
                  f"{len(errors)} errors", flush=True)
            deadline = time.monotonic() + args.timeout
            wanted = set(ids)
            while time.monotonic() < deadline:
                procs.check_alive()
                seen = {r["tracking_id"] for r in arrivals(out) if r["status"] == 200}
                if wanted <= seen:
                    break
                time.sleep(1.0)
            time.sleep(2.0)  # any late duplicate
            result = analyse(arrivals(out), ids, down, up)
            result.update({
                "jobs": args.jobs, "rate": args.rate, "batch": args.batch,
                "workers": args.workers, "broker": args.broker,
                "outage": {"at_s": round(down - t0, 1), "for_s": round(up - down, 1)},
                "submit_errors": errors[:5], "submit_error_count": len(errors),
                "load": Path("/proc/loadavg").read_text().split()[:3],
                "concurrency": int(env.get("PREDICTQ_CALLBACK_CONCURRENCY", 8)),
            })
            return result
    finally:
        receiver.kill()
        if args.logs is not None:
            shutil.copytree(log_dir, args.logs, dirs_exist_ok=True)
        if args.broker == "amqp":
            with contextlib.suppress(Exception):
                harness.delete_queues(args.amqp_url, prefix)


if __name__ == "__main__":
    sys.exit(main())
