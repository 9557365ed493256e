"""Results without polling (issue 15), measured: what a waiting client gains over a
polling one, what holding thousands of waits costs the API, and the API's worker
classes side by side.

    python -m loadtest.wait_bench [--quick] [--write]

1. latency — API + 2 workers on RabbitMQ; open-loop submissions at 50/s and 200/s.
   Each client learns its result either by polling `GET /v1/predictions/<id>` every
   5 ms or by one `GET …?wait=30`; the two take turns, rate by rate, on the same
   processes. Submit→done is measured by the client (send to the answer that shows the
   job final) and, for the same jobs, from the store's stamp (`updated_at`).
2. waiters — `predictq api` on the default settings (embedded broker and SQLite, no
   workers, so nothing finishes): intake by wrk with no one waiting, then with 2,000
   clients each holding a `?wait=` open; errors, and the API's RSS before and during.
3. classes — intake by wrk (single submissions) on RabbitMQ with the API's gunicorn
   worker class `gthread` and `gevent`, taking turns, two rounds each.

`--write` replaces the "Results without polling" section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from loadtest import harness, openloop, wrk
from loadtest.harness import Processes
from loadtest.sections.common import fetch_jobs, open_store_for, real_texts, single_body
from loadtest.stats import percentile, table
from predictq.jobs import Status

DOC = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"
TITLE = "## Results without polling (issue 15)"
POLL_EVERY_S = 0.005
WAIT_S = 30


@dataclass
class Stack:
    url: str
    env: dict[str, str]
    procs: Processes
    api_pid: int


@contextlib.contextmanager
def stack(workdir: Path, model_dir: Path, tag: str, *, amqp_url: str = "",
          workers: int = 0, **settings: str) -> Iterator[Stack]:
    data_dir = Path(tempfile.mkdtemp(prefix=tag + "-", dir=workdir))
    prefix = harness.unique_prefix(tag)
    env = harness.child_env(data_dir, prefix=prefix, model_dir=model_dir,
                            broker_url=amqp_url, port=harness.free_port(), **settings)
    try:
        with Processes(data_dir / "logs") as procs:
            url = f"http://127.0.0.1:{env['PREDICTQ_PORT']}"
            api = procs.spawn("api", ["api"], env)
            harness.wait_api(url, procs, 2)
            for i in range(workers):
                procs.spawn(f"worker{i}", ["worker"], env)
            if workers:
                harness.wait_consumers(url, prefix, workers, procs)
            yield Stack(url, env, procs, api.pid)
    finally:
        if amqp_url:
            harness.delete_queues(amqp_url, prefix)


# -- 1. latency -------------------------------------------------------------------


@dataclass
class LatencyCell:
    rate: float
    mode: str  # "poll" or "wait"
    sent: int = 0
    client_ms: list[float] = field(default_factory=list)
    store_ms: list[float] = field(default_factory=list)
    gets: int = 0
    failures: int = 0


def follower(mode: str, cell: LatencyCell, seen: dict[str, float]):
    lock = threading.Lock()

    def follow(client: openloop._Client, send: openloop.Send) -> None:
        path = f"/v1/predictions/{send.tracking_id}"
        if mode == "wait":
            path += f"?wait={WAIT_S}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status, raw = client.get(path)
            with lock:
                cell.gets += 1
            if status == 200 and json.loads(raw)["status"] in ("done", "failed"):
                seen[send.tracking_id] = time.time()
                return
            if mode == "poll":
                time.sleep(POLL_EVERY_S)
        with lock:
            cell.failures += 1

    return follow


def latency_cell(st: Stack, store, rate: float, mode: str, seconds: float,
                 bodies: list[bytes]) -> LatencyCell:
    cell = LatencyCell(rate, mode)
    seen: dict[str, float] = {}
    sends = openloop.run(st.url + "/v1/predictions", bodies, rate, seconds, pool_size=400,
                         timeout_s=WAIT_S + 10, give_up_after_s=90,
                         follow=follower(mode, cell, seen))
    cell.sent = len(sends)
    accepted = [s for s in sends if s.accepted]
    cell.failures += len(sends) - len(accepted)
    jobs = {j.tracking_id: j for j in fetch_jobs(store, [s.tracking_id for s in accepted])}
    for s in accepted:
        job = jobs.get(s.tracking_id)
        if s.tracking_id in seen:
            cell.client_ms.append((seen[s.tracking_id] - s.sent) * 1000)
        if job is not None and job.status is Status.DONE:
            cell.store_ms.append((job.updated_at - s.sent) * 1000)
    print(f"  latency {rate:>4.0f}/s {mode}: client p50 {pct(cell.client_ms, 50)} p99 "
          f"{pct(cell.client_ms, 99)} ms; store p50 {pct(cell.store_ms, 50)} p99 "
          f"{pct(cell.store_ms, 99)} ms; {cell.gets / max(cell.sent, 1):.1f} GETs per job, "
          f"{cell.failures} failures", flush=True)
    return cell


def measure_latency(args, workdir: Path) -> list[LatencyCell]:
    bodies = [single_body(t).encode() for t in real_texts(500)]
    cells = []
    with stack(workdir, args.model_dir, "wait-latency", amqp_url=args.amqp_url,
               workers=2) as st:
        store = open_store_for(st.env)
        openloop.run(st.url + "/v1/predictions", bodies, 50, 1.0)  # warm-up
        time.sleep(1.0)
        for rate in args.rates:
            for mode in ("poll", "wait"):
                cells.append(latency_cell(st, store, rate, mode, args.seconds, bodies))
                time.sleep(2.0)  # the backlog of one cell does not start the next
        store.close()
    return cells


# -- 2. waiters -------------------------------------------------------------------


@dataclass
class WaitersRun:
    waiters: int
    intake_alone: wrk.WrkResult
    intake_waiting: wrk.WrkResult
    open_during: int  # waits still open when the intake run ended
    errors: int  # waits that failed (not a 200 at the end of their wait)
    rss_before_mib: float
    rss_during_mib: float


def api_rss_mib(st: Stack) -> float:
    """The gunicorn master and its workers (the children of the process spawned)."""
    root = st.api_pid
    pids = [root] + [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
                     and _ppid(int(p.name)) == root]
    return sum(harness.rss_kib(pid) for pid in pids) / 1024


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def hold_waits(url: str, ids: list[str], results: list[int], opened: threading.Event,
               ready: list[int]) -> list[threading.Thread]:
    host, port = url.rsplit("//", 1)[1].split(":")

    def one(i: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=WAIT_S + 30)
        try:
            conn.request("GET", f"/v1/predictions/{ids[i % len(ids)]}?wait={WAIT_S}")
            ready.append(i)
            results[i] = conn.getresponse().status
        except Exception:
            results[i] = -1
        finally:
            conn.close()

    threading.stack_size(256 * 1024)
    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(results))]
    for t in threads:
        t.start()
    opened.set()
    return threads


def measure_waiters(args, workdir: Path) -> WaitersRun:
    texts = real_texts(200)
    bodies = [single_body(t) for t in texts]
    with stack(workdir, args.model_dir, "wait-many") as st:
        ids = [json.loads(_post(st.url, bodies[i]))["tracking_id"] for i in range(50)]
        rss_before = api_rss_mib(st)
        alone, _ = wrk.run(st.url + "/v1/predictions", bodies, connections=16,
                           duration_s=args.intake_s, threads=2, workdir=workdir)
        results = [0] * args.waiters
        ready: list[int] = []
        threads = hold_waits(st.url, ids, results, threading.Event(), ready)
        deadline = time.monotonic() + 20
        while len(ready) < args.waiters and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # the last requests reach the server
        waiting, _ = wrk.run(st.url + "/v1/predictions", bodies, connections=16,
                             duration_s=args.intake_s, threads=2, workdir=workdir)
        rss_during = api_rss_mib(st)
        open_during = sum(1 for r in results if r == 0)
        for t in threads:
            t.join(WAIT_S + 40)
        errors = sum(1 for r in results if r != 200)
    run = WaitersRun(args.waiters, alone, waiting, open_during, errors, rss_before, rss_during)
    print(f"  waiters: intake alone {alone.requests_per_s:,.0f} req/s, with "
          f"{open_during:,} waiting {waiting.requests_per_s:,.0f} req/s "
          f"({waiting.requests_per_s / alone.requests_per_s:.0%}); wait errors {errors}; "
          f"API RSS {rss_before:.0f} → {rss_during:.0f} MiB", flush=True)
    return run


def _post(url: str, body: str) -> bytes:
    host, port = url.rsplit("//", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("POST", "/v1/predictions", body.encode(), {"Content-Type": "application/json"})
    return conn.getresponse().read()


# -- 3. classes -------------------------------------------------------------------


def measure_classes(args, workdir: Path) -> dict[str, list[wrk.WrkResult]]:
    bodies = [single_body(t) for t in real_texts(200)]
    out: dict[str, list[wrk.WrkResult]] = {"gthread": [], "gevent": []}
    for round_ in range(args.rounds):
        for cls in ("gthread", "gevent"):
            with stack(workdir, args.model_dir, f"wait-{cls}", amqp_url=args.amqp_url,
                       api_worker_class=cls) as st:
                _post(st.url, bodies[0])  # warm-up
                result, _ = wrk.run(st.url + "/v1/predictions", bodies, connections=16,
                                    duration_s=args.intake_s, threads=2, workdir=workdir)
            out[cls].append(result)
            print(f"  classes: round {round_ + 1} {cls:7} {result.requests_per_s:,.0f} "
                  f"req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
                  f"errors {result.errors}", flush=True)
    return out


# -- report -----------------------------------------------------------------------


def pct(values: list[float], q: float) -> str:
    return f"{percentile(values, q):.1f}" if values else "–"


def render(cells: list[LatencyCell], many: WaitersRun | None,
           classes: dict[str, list[wrk.WrkResult]] | None, command: str) -> str:
    parts = [TITLE, "", f"`{command}` (commit {harness_commit()}; 2 cores, shared).", ""]
    if cells:
        parts += ["Submit→done at fixed arrival rates, API + 2 workers on RabbitMQ; the "
                  "polling client GETs every 5 ms, the waiting client sends one "
                  "`GET …?wait=30`. Client: send to the answer showing the job final. "
                  "Store: send to the worker's `updated_at` stamp, for the same jobs.", "",
                  table(["rate", "client", "client p50 ms", "client p99 ms",
                         "store p50 ms", "store p99 ms", "GETs per job", "failures"],
                        [[f"{c.rate:.0f}/s", c.mode, pct(c.client_ms, 50),
                          pct(c.client_ms, 99), pct(c.store_ms, 50), pct(c.store_ms, 99),
                          f"{c.gets / max(c.sent, 1):.1f}", str(c.failures)]
                         for c in cells], right=range(2, 8)), ""]
    if many is not None:
        ratio = many.intake_waiting.requests_per_s / many.intake_alone.requests_per_s
        parts += [f"{many.waiters:,} clients waiting at once on `predictq api` with default "
                  "settings (gevent, embedded broker and SQLite, no workers): intake by wrk "
                  "(16 connections, single submissions) alone and while they wait.", "",
                  table(["", "req/s", "p50 ms", "p99 ms", "errors", "API RSS MiB"],
                        [["alone", f"{many.intake_alone.requests_per_s:,.0f}",
                          f"{many.intake_alone.p50_ms:.1f}", f"{many.intake_alone.p99_ms:.1f}",
                          str(many.intake_alone.errors), f"{many.rss_before_mib:.0f}"],
                         [f"{many.open_during:,} waiting",
                          f"{many.intake_waiting.requests_per_s:,.0f}",
                          f"{many.intake_waiting.p50_ms:.1f}",
                          f"{many.intake_waiting.p99_ms:.1f}",
                          str(many.intake_waiting.errors), f"{many.rss_during_mib:.0f}"]],
                        right=range(1, 6)), "",
                  f"Intake while they wait: {ratio:.0%} of the rate alone; waits that "
                  f"did not end in a 200: {many.errors}.", ""]
    if classes:
        rows = []
        for cls, results in classes.items():
            rps = [r.requests_per_s for r in results]
            rows.append([cls, " / ".join(f"{v:,.0f}" for v in rps),
                         f"{statistics.median(rps):,.0f}",
                         " / ".join(f"{r.p99_ms:.1f}" for r in results),
                         str(sum(r.errors for r in results))])
        g = statistics.median(r.requests_per_s for r in classes["gevent"])
        t = statistics.median(r.requests_per_s for r in classes["gthread"])
        parts += ["Intake by gunicorn worker class (RabbitMQ, 16 connections, single "
                  "submissions, rounds alternating):", "",
                  table(["class", "req/s per round", "median", "p99 ms per round",
                         "errors"], rows, right=range(1, 5)), "",
                  f"gevent / gthread: {g / t:.2f}.", ""]
    return "\n".join(parts)


def harness_commit() -> str:
    import subprocess

    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, cwd=DOC.parent)
    return done.stdout.strip() or "unknown"


def write_section(text: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    start = doc.find(TITLE)
    if start < 0:
        doc = doc.rstrip("\n") + "\n\n" + text
    else:
        end = doc.find("\n## ", start + len(TITLE))
        doc = doc[:start] + text + (doc[end:] if end >= 0 else "\n")
    DOC.write_text(doc, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="short cells (a smoke run)")
    p.add_argument("--sections", default="latency,waiters,classes")
    p.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672//")
    p.add_argument("--model-dir", type=Path, required=True,
                   help="trained models (predictq train)")
    p.add_argument("--rates", default="50,200")
    p.add_argument("--waiters", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--write", action="store_true", help=f"update docs/{DOC.name}")
    args = p.parse_args(argv)
    args.rates = [float(r) for r in args.rates.split(",")]
    args.seconds = 5.0 if args.quick else 20.0
    args.intake_s = 5 if args.quick else 10
    sections = set(args.sections.split(","))
    socket.setdefaulttimeout(None)
    with tempfile.TemporaryDirectory(prefix="wait-bench-") as tmp:
        workdir = Path(tmp)
        cells = measure_latency(args, workdir) if "latency" in sections else []
        many = measure_waiters(args, workdir) if "waiters" in sections else None
        classes = measure_classes(args, workdir) if "classes" in sections else None
    text = render(cells, many, classes, "python -m loadtest.wait_bench " + " ".join(
        sys.argv[1:] if argv is None else argv))
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
