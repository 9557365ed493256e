"""What the model lifecycle costs the hot path: drain rate of one worker process on
RabbitMQ (micro-batch 32) with the worker code from before the lifecycle existed, with
today's (versions followed from the store, shadow off), with a version in shadow, and
with a promotion in the middle of the drain — interleaved rounds, median per cell.

    python -m loadtest.lifecycle_bench --model-dir DIR [--before 4e843f7] [--rounds 3]

`--before` names the commit whose worker is the baseline (it is checked out in a git
worktree and run with PYTHONPATH pointing at it). DIR is a trained model folder (e.g.
var/models after `predictq up`); it is copied, never written.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from loadtest import harness
from loadtest.harness import Processes
from loadtest.sections.common import (
    DEFAULT_AMQP,
    fetch_jobs,
    open_store_for,
    real_texts,
    wait_all_done,
)
from loadtest.sections.drain import submit_in_process
from loadtest.stats import window_rate
from models.artifacts import current_version, load_estimator, save_artifact
from predictq.jobs import Status
from predictq.lifecycle.records import Action

CELLS = ("before", "after", "shadow on", "promotion mid-drain")


def derive_version(model_dir: Path) -> str:
    """A second language version: the same answers, other confidences."""
    estimator, manifest = load_estimator(model_dir, "language")
    estimator = copy.deepcopy(estimator)
    params = estimator.language_calibration_
    estimator.language_calibration_ = {**params, "a": params["a"] * 1.01}
    return save_artifact(estimator, model_dir, "language", data=manifest.data,
                         metrics=manifest.metrics, params=manifest.params).version


def cell(kind: str, model_dir: Path, second: str, texts: list[str], workdir: Path,
         before_tree: Path) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix=kind.replace(" ", "-") + "-", dir=workdir))
    prefix = harness.unique_prefix("lcbench")
    env = harness.child_env(data_dir, prefix=prefix, model_dir=model_dir,
                            broker_url=DEFAULT_AMQP, model_poll_ms="500")
    if kind == "before":
        env["PYTHONPATH"] = str(before_tree)
    try:
        ids = submit_in_process(env, texts)
        store = open_store_for(env)
        if kind == "shadow on":
            store.models.switch("language", Action.SHADOW, second)
        switched_at = None
        with Processes(data_dir / "logs") as procs:
            procs.spawn("worker", ["worker", "--batch-size", "32", "--family", "text"], env)
            if kind == "promotion mid-drain":
                while store.count_by_status()[Status.DONE] < len(ids) // 2:
                    procs.check_alive()
                    time.sleep(0.02)
                store.models.switch("language", Action.PROMOTE, second)
                switched_at = time.time()
            wait_all_done(store, len(ids), procs, 600)
        jobs = [j for j in fetch_jobs(store, ids) if j.status is Status.DONE]
        shadowed = len(store.models.shadow_results("language")) if kind == "shadow on" else 0
        store.close()
    finally:
        harness.delete_queues(DEFAULT_AMQP, prefix)
    stamps = [j.updated_at for j in jobs]
    versions = {j.model_version for j in jobs}
    after_switch = sum(j.model_version == second for j in jobs)
    result = {"kind": kind, "rate": window_rate(len(stamps), stamps), "done": len(jobs),
              "n": len(ids), "versions": len(versions), "shadowed": shadowed,
              "after_switch": after_switch,
              "switch_to_first_s": (min((j.updated_at for j in jobs
                                         if j.model_version == second), default=None)
                                    - switched_at) if switched_at else None}
    print(f"  {kind:20} {result['rate']:8,.0f} items/s  done {len(jobs)}/{len(ids)}"
          + (f"  shadow answers {shadowed}" if shadowed else "")
          + (f"  {after_switch} by the promoted version, first "
             f"{result['switch_to_first_s']:.2f} s after the switch" if switched_at else ""),
          flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.lifecycle_bench")
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--before", default="4e843f7")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n", type=int, default=5000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lcbench-") as tmp:
        workdir = Path(tmp)
        model_dir = workdir / "models"
        shutil.copytree(args.model_dir / "language", model_dir / "language")
        base = current_version(model_dir, "language")
        second = derive_version(model_dir)
        before_tree = workdir / "before"
        subprocess.run(["git", "worktree", "add", "--detach", str(before_tree), args.before],
                       cwd=harness.REPO, check=True, capture_output=True)
        try:
            texts = real_texts(args.n)
            print(f"language {base} (and {second} for shadow/promotion), {args.n} texts, "
                  f"load {harness_load()}", flush=True)
            results: dict[str, list[dict]] = {k: [] for k in CELLS}
            for r in range(args.rounds):
                print(f"round {r + 1}", flush=True)
                for kind in CELLS:
                    results[kind].append(cell(kind, model_dir, second, texts, workdir,
                                              before_tree))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(before_tree)],
                           cwd=harness.REPO, check=False, capture_output=True)
    medians = {k: statistics.median(r["rate"] for r in v) for k, v in results.items()}
    print("\n| cell | drain items/s (median of rounds) | vs before | rounds |")
    print("| --- | ---: | ---: | --- |")
    for kind in CELLS:
        rounds = ", ".join(f"{r['rate']:,.0f}" for r in results[kind])
        print(f"| {kind} | {medians[kind]:,.0f} | {medians[kind] / medians['before']:.2f}× "
              f"| {rounds} |")
    print(f"load at the end: {harness_load()}")
    return 0


def harness_load() -> str:
    return " / ".join(Path("/proc/loadavg").read_text().split()[:3])


if __name__ == "__main__":
    raise SystemExit(main())
