"""The model lifecycle end to end, under load, on real processes: traffic flows, feedback
arrives, a version is learned from it, shadowed, compared, promoted while submissions
keep coming, then rolled back — and every accepted job ends `done`, none lost.

    python -m loadtest.lifecycle_scenario                    # embedded broker and store
    python -m loadtest.lifecycle_scenario --broker amqp://guest:guest@127.0.0.1:5672//

tests/e2e/test_lifecycle.py runs it on both. It trains nothing from scratch: the model
folder given (or a fresh `predictq train language`) is copied, and the new version is
learned from the scenario's own feedback (`predictq learn`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from loadtest import harness

# Real sentences with their true labels; the language model answers them right.
TEXTS = [
    ("sv", "Jag tycker om att läsa böcker på kvällarna när det regnar ute."),
    ("de", "Wir fahren morgen früh mit dem Zug nach Hamburg zu meiner Schwester."),
    ("es", "Mañana vamos a la playa con nuestros amigos si hace buen tiempo."),
    ("fr", "Nous avons mangé une excellente soupe à l'oignon dans ce petit restaurant."),
    ("ru", "Вчера вечером мы долго гуляли по старому парку у реки."),
    ("ja", "昨日は友達と一緒に新しいレストランで晩ご飯を食べました。"),
    ("hr", "Gdje je najbliža ljekarna? Trebam lijek za glavobolju."),
    ("nb", "Jeg liker å gå tur i skogen når det er fint vær."),
]
TRUTH = {text: label for label, text in TEXTS}


@dataclass
class Report:
    submitted: int = 0
    final: dict[str, dict] = field(default_factory=dict)
    submit_errors: int = 0
    base: str = ""
    learned: str = ""
    versions_in_order: list[str] = field(default_factory=list)
    shadow: dict = field(default_factory=dict)
    switch_s: dict[str, float] = field(default_factory=dict)

    @property
    def statuses(self) -> Counter:
        return Counter(r["status"] for r in self.final.values())


class Submitter(threading.Thread):
    """Posts batches of TEXTS at a steady pace until stopped; keeps every tracking id."""

    def __init__(self, base: str, per_second: float, batch: int = 4) -> None:
        super().__init__(daemon=True)
        self.base, self.interval, self.batch = base, batch / per_second, batch
        self.ids: list[str] = []
        self.text_of: dict[str, str] = {}
        self.errors = 0
        self.stop_event = threading.Event()

    def run(self) -> None:
        i = 0
        while not self.stop_event.is_set():
            texts = [TEXTS[(i + k) % len(TEXTS)][1] for k in range(self.batch)]
            i += self.batch
            try:
                body = post(f"{self.base}/v1/predictions/batch",
                            {"model": "language", "inputs": [{"text": t} for t in texts]})
                self.text_of.update(zip(body["tracking_ids"], texts, strict=True))
                self.ids.extend(body["tracking_ids"])
            except (OSError, ValueError):
                self.errors += 1  # refused or unreachable: not accepted, so not owed
            self.stop_event.wait(self.interval)


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "predictq", *args], env=env,
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"predictq {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def run(model_dir: Path, workdir: Path, *, broker_url: str = "", rate: float = 40.0,
        workers: int = 2, echo=print) -> Report:
    """The scenario; `model_dir` is copied, never written."""
    folder = workdir / "models"
    shutil.copytree(model_dir / "language", folder / "language")
    prefix = harness.unique_prefix("lifecycle")
    port = harness.free_port()
    env = harness.child_env(workdir / "var", prefix=prefix, model_dir=folder,
                            broker_url=broker_url, port=port, api_workers="2",
                            model_poll_ms="500")
    base = f"http://127.0.0.1:{port}"
    report = Report()
    try:
        with harness.Processes(workdir / "logs") as procs:
            procs.spawn("api", ["api"], env)
            for w in range(workers):
                procs.spawn(f"worker{w}", ["worker", "--family", "text"], env)
            harness.wait_api(base, procs, 2)
            harness.wait_consumers(base, prefix, workers, procs)
            _scenario(base, env, procs, rate, report, echo)
    finally:
        if broker_url:
            harness.delete_queues(broker_url, prefix)
    return report


def _scenario(base: str, env: dict[str, str], procs: harness.Processes, rate: float,
              report: Report, echo) -> None:
    model = f"{base}/v1/models/language"
    report.base = harness.get_json(model)["serving"]
    submitter = Submitter(base, rate)
    submitter.start()
    given: set[str] = set()

    def give_feedback(count: int) -> None:
        """True labels for `count` more done jobs, the newest first, as users judging
        the results they just got would."""
        for tid in reversed(list(submitter.ids)):
            if count == 0:
                return
            if tid in given:
                continue
            record = harness.get_json(f"{base}/v1/predictions/{tid}")
            if record["status"] == "done":
                label = TRUTH[submitter.text_of[tid]]
                post(f"{base}/v1/predictions/{tid}/feedback", {"label": label})
                given.add(tid)
                count -= 1

    try:
        harness.wait_until(lambda: _done_count(base, submitter.ids[:40]) >= 40,
                           "40 results", procs)
        give_feedback(40)
        echo(f"feedback on {len(given)} results of {report.base}")
        out = cli(env, "learn", "language")
        report.learned = out.split("learned ", 1)[1].split()[0]
        echo(out.strip())
        echo(cli(env, "models", "shadow", "language", report.learned).strip())
        harness.wait_until(lambda: _compared(model) >= 40, "40 shadow answers", procs)
        give_feedback(20)  # on jobs the shadow answered too
        harness.wait_until(lambda: _shadow(model)["with_feedback"] > 0,
                           "shadow answers with feedback", procs)
        report.shadow = _shadow(model)
        echo(f"shadow: {report.shadow}")
        started = time.monotonic()
        echo(cli(env, "models", "promote", "language", report.learned).strip())
        harness.wait_until(lambda: _latest_version(base, submitter) == report.learned,
                           f"results from {report.learned}", procs)
        report.switch_s["promote"] = time.monotonic() - started
        started = time.monotonic()
        echo(cli(env, "models", "rollback", "language").strip())
        harness.wait_until(lambda: _latest_version(base, submitter) == report.base,
                           f"results from {report.base} again", procs)
        report.switch_s["rollback"] = time.monotonic() - started
    finally:
        submitter.stop_event.set()
        submitter.join(10)
    report.submitted = len(submitter.ids)
    report.submit_errors = submitter.errors
    ids = list(submitter.ids)

    def all_final() -> bool:
        for start in range(0, len(ids), 200):
            for tid in ids[start:start + 200]:
                if tid in report.final:
                    continue
                record = harness.get_json(f"{base}/v1/predictions/{tid}")
                if record["status"] in ("done", "failed"):
                    report.final[tid] = record
        return len(report.final) == len(ids)

    harness.wait_until(all_final, f"all {len(ids)} jobs final", procs, timeout=120,
                       interval=0.5)
    ordered = sorted(report.final.values(), key=lambda r: r["updated_at"])
    for record in ordered:
        version = record["model_version"]
        if not report.versions_in_order or report.versions_in_order[-1] != version:
            report.versions_in_order.append(version)


def _done_count(base: str, ids: list[str]) -> int:
    return sum(harness.get_json(f"{base}/v1/predictions/{tid}")["status"] == "done"
               for tid in ids)


def _shadow(model_url: str) -> dict:
    comparisons = harness.get_json(model_url)["shadow_comparison"]
    return comparisons[0] if comparisons else {"compared": 0, "with_feedback": 0}


def _compared(model_url: str) -> int:
    return _shadow(model_url)["compared"]


def _latest_version(base: str, submitter: Submitter) -> str | None:
    for tid in reversed(submitter.ids[-40:]):
        try:
            record = harness.get_json(f"{base}/v1/predictions/{tid}")
        except urllib.error.URLError:
            continue
        if record["status"] == "done":
            return record["model_version"]
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.lifecycle_scenario")
    parser.add_argument("--broker", default="", help="amqp://… (default: embedded)")
    parser.add_argument("--model-dir", type=Path, default=None,
                        help="a trained model folder (default: train language afresh)")
    parser.add_argument("--rate", type=float, default=40.0, help="submissions per second")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lifecycle-") as tmp:
        model_dir = args.model_dir
        if model_dir is None:
            model_dir = Path(tmp) / "trained"
            env = harness.base_env() | {"PREDICTQ_MODEL_DIR": str(model_dir)}
            cli(env, "train", "language")
        report = run(model_dir, Path(tmp), broker_url=args.broker, rate=args.rate)
    print(json.dumps({"submitted": report.submitted, "statuses": report.statuses,
                      "base": report.base, "learned": report.learned,
                      "versions_in_order": report.versions_in_order,
                      "shadow": report.shadow, "switch_seconds": report.switch_s}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
