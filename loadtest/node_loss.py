"""Node-loss chaos: predictq on quorum queues over a 3-node RabbitMQ cluster, nodes lost
under load.

Starts a cluster on this machine (loadtest/rabbit_cluster.py) unless given one, then the
API (gunicorn) and two workers as real processes with the cluster's failover URL list,
`PREDICTQ_QUEUE_TYPE=quorum` and a fresh SQLite store, submits TOTAL predictions over
HTTP at RATE, and meanwhile:

  at 20% of submissions  kill -9 the leader node of the busiest queue (`<prefix>.text`),
                         start it again 5 s later on its data
  at 45%                 kill -9 the queue's leader again (another node by then: the
                         first came back as a follower), start it again 5 s later
  at 70%                 SIGSTOP the leader for PAUSE_S (30 s; shorter than Erlang's
                         60 s net tick, so the node is cut off for its clients and its
                         Raft peers but not declared partitioned), then SIGCONT

Afterwards every accepted submission must be done or failed with a reason: 0 lost,
0 stuck. Measured: the time to a new queue leader after each kill, how long each node
took to come back, the longest stretch with no job finishing, the time from the last
submission until all were final; the duplicates suppressed counted by the workers.

    python -m loadtest.chaos --node-loss --total 10000 --rate 100   # full size
    python -m loadtest.chaos --node-loss --total 900 --rate 10      # what CI runs

Needs root and the rabbitmq-server package (the cluster runs as the rabbitmq user).
"""

from __future__ import annotations

import itertools
import json
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

from loadtest.chaos import TEXTS, Cluster, Report, _all
from loadtest.rabbit_cluster import RabbitCluster
from predictq.jobs import Status
from predictq.store import open_store

PAUSE_S = 30.0
DOWN_S = 5.0


@dataclass
class NodeLossReport(Report):
    new_leader_after_kill_s: list[float] = field(default_factory=list)
    node_back_after_restart_s: list[float] = field(default_factory=list)
    paused_s: float = 0.0
    longest_stall_s: float = 0.0  # the longest stretch with no job finishing
    cluster_startup_s: float | None = None


def run(total: int, rate: float = 100.0, threads: int = 8, settle_timeout_s: float = 240.0,
        store_url: str = "", model_dir: Path | None = None,
        rabbit: RabbitCluster | None = None) -> NodeLossReport:
    """`rabbit`: a running cluster to use (the tests' fixture), else one is started and
    destroyed here. `model_dir`: trained models, else `language` is trained first."""
    report = NodeLossReport(total=total)
    own = rabbit is None
    if rabbit is None:
        rabbit = RabbitCluster(Path(tempfile.mkdtemp(prefix="predictq-cluster-")))
    prefix = f"nodeloss{uuid.uuid4().hex[:8]}"
    queue = f"{prefix}.text"
    try:
        if own:
            rabbit.start()
        report.cluster_startup_s = rabbit.startup_s
        with tempfile.TemporaryDirectory(prefix="predictq-nodeloss-") as tmp:
            _run(report, rabbit, Path(tmp), prefix, queue, rate, threads, settle_timeout_s,
                 store_url, model_dir)
    finally:
        if own:
            rabbit.destroy()
        else:
            rabbit.heal()
    return report


def _run(report: NodeLossReport, rabbit: RabbitCluster, workdir: Path, prefix: str,
         queue: str, rate: float, threads: int, settle_timeout_s: float, store_url: str,
         model_dir: Path | None) -> None:
    total = report.total
    procs = Cluster(workdir, prefix, store_url, model_dir, broker_url=rabbit.failover_url,
                    queue_type="quorum")
    store = open_store(store_url or f"sqlite:///{workdir / 'var' / 'predictq.db'}")
    try:
        if model_dir is None:
            subprocess.run([sys.executable, "-m", "predictq", "train", "language"],
                           env=procs.env, check=True, capture_output=True)
        procs.start_api()
        procs.start_worker(0)
        procs.start_worker(1)
        accepted: list[str] = []
        refused_at: list[float] = []
        lock = threading.Lock()
        sent = 0
        started = time.monotonic()
        done_at: list[float] = []  # when the done count last grew, sampled
        stop_sampling = threading.Event()

        def next_index() -> int | None:
            nonlocal sent
            with lock:
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
                req = urllib.request.Request(procs.url + "/v1/predictions", data=body,
                                             headers={"Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(req, timeout=30) as r:
                        tid = json.loads(r.read())["tracking_id"]
                    with lock:
                        accepted.append(tid)
                except (OSError, urllib.error.HTTPError):
                    with lock:
                        refused_at.append(time.monotonic())

        def event(text: str) -> None:
            report.events.append(f"{time.monotonic() - started:.1f}s {text}")

        def at(fraction: float) -> None:
            while sent < total * fraction:
                time.sleep(0.05)

        def new_leader(old: str) -> float:
            began = time.monotonic()
            while time.monotonic() - began < 120:
                rows = rabbit.queues(next(n for n in rabbit.running_nodes()
                                          if n.name != old))
                leader = rows.get(queue, {}).get("leader", "")
                if leader and leader != old:
                    return round(time.monotonic() - began, 1)
                time.sleep(0.2)
            return float("inf")

        def kill_leader() -> None:
            leader = rabbit.leader_of(queue)
            rabbit.kill(leader)
            event(f"kill -9 {leader.name} (leader of {queue})")
            report.new_leader_after_kill_s.append(new_leader(leader.name))
            event(f"new leader after {report.new_leader_after_kill_s[-1]} s")
            time.sleep(DOWN_S)
            report.node_back_after_restart_s.append(rabbit.restart(leader))
            event(f"{leader.name} running again after "
                  f"{report.node_back_after_restart_s[-1]} s")

        def chaos() -> None:
            at(0.20)
            kill_leader()
            at(0.45)
            kill_leader()
            at(0.70)
            leader = rabbit.leader_of(queue)
            rabbit.pause(leader)
            event(f"SIGSTOP {leader.name} (leader of {queue})")
            time.sleep(PAUSE_S)
            rabbit.resume(leader)
            report.paused_s = PAUSE_S
            event(f"SIGCONT {leader.name}")

        def sample() -> None:
            last = -1
            while not stop_sampling.wait(0.5):
                try:
                    done = store.count_by_status()[Status.DONE]
                except Exception:
                    continue
                if done != last:
                    done_at.append(time.monotonic())
                    last = done

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        chaos_thread = threading.Thread(target=chaos)
        chaos_thread.start()
        pool = [threading.Thread(target=submitter) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        chaos_thread.join()
        last_submit = time.monotonic()
        report.accepted = len(accepted)
        report.refused = report.refused_while_api_up = len(refused_at)
        # Jobs the API could not publish while a node was lost wait in the outbox.
        while time.monotonic() - last_submit < settle_timeout_s:
            if not store.unpublished(older_than=time.time()):
                report.outbox_drained_after_broker_back_s = round(
                    time.monotonic() - last_submit, 1)
                break
            time.sleep(0.2)
        deadline = last_submit + settle_timeout_s
        while time.monotonic() < deadline:
            jobs = list(_all(store, accepted))
            if sum(1 for j in jobs if j.status.is_final) == len(accepted):
                report.all_final_after_last_submit_s = round(
                    time.monotonic() - last_submit, 1)
                break
            time.sleep(0.5)
        stop_sampling.set()
        sampler.join(5)
        gaps = [b - a for a, b in itertools.pairwise(done_at)]
        report.longest_stall_s = round(max(gaps, default=0.0), 1)
        jobs = {j.tracking_id: j for j in _all(store, accepted)}
        report.lost = sum(1 for tid in accepted if tid not in jobs)
        report.done = sum(1 for j in jobs.values() if j.status is Status.DONE)
        report.failed = sum(1 for j in jobs.values() if j.status is Status.FAILED)
        report.stuck = sum(1 for j in jobs.values() if not j.status.is_final)
        report.redelivered = procs.counter("predictq_redeliveries")
        report.duplicates_suppressed = procs.counter("predictq_duplicates_suppressed")
        report.republished = procs.counter("predictq_republished")
    finally:
        procs.stop_all()
        store.close()
