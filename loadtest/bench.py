"""The benchmark of issue #6: predictq's speed on one machine, measured against its limit.

One run measures, with real processes and real texts (UDHR sentences, mixed languages);
each part lives in loadtest/sections/<name>.py:

  limit    the raw `language` model in this process, loaded the workers' way
           (`LoadedModel.load`), `predict` over batches of 1, of the worker default (32)
           and of 128: the most one worker process could do on one core.
  drain    worker drain rate on a pre-filled queue: {embedded, RabbitMQ} broker ×
           {one-by-one (--batch-size 1), micro-batch (default)} × {1, 2} worker
           processes. Per cell: a fresh data dir and queue prefix; N texts submitted
           in-process through `Intake.submit_batch` (store, then publish); THEN
           `predictq worker` processes start; rate = N / (last − first `updated_at` of
           the done jobs), which leaves process start-up out. A failed job, or N not
           done in time, stops the run.
  intake   `predictq api` (gunicorn) on a fresh SQLite store and RabbitMQ, then the
           embedded broker, no workers: wrk posts single submissions (-c 16) and bulk
           ones (1,000 inputs a request, -c 4); req/s, items/s, p50/p99, non-2xx. The
           store must then hold at least as many jobs as wrk saw 202s (none lost).
  latency  `predictq api` + 2 `predictq worker` on RabbitMQ; an open-loop generator
           (loadtest/openloop.py) submits at fixed rates; submit→done = the job's
           `updated_at` (done, read from the store) − the client's send time.
  memory   `predictq api` + 1 worker on RabbitMQ at a steady rate for --memory-minutes;
           the worker's VmRSS from /proc every ~15 s: start (after warm-up), end, max.
  queues   (only when named in --sections) the RabbitMQ drain and intake cells on each
           of --queue-types (classic,quorum), --rounds times, the types taking turns
           cell by cell; per type the medians and the quorum/classic ratios of this run.
           Each cell's queue type is checked with `rabbitmqctl list_queues name type`.

    python loadtest/bench.py                 # everything, full size (~30 min)
    python loadtest/bench.py --quick         # smoke run, about 5 minutes
    python loadtest/bench.py --sections limit,drain --model-dir var/models --write
    python -m loadtest.bench --sections queues --rounds 3 --drain-n 5000 --intake-seconds 10

Needs RabbitMQ (amqp://guest:guest@127.0.0.1:5672// unless --amqp-url or
PREDICTQ_TEST_AMQP_URL says otherwise) and wrk (apt-get install wrk). Without
--model-dir the `language` model is trained once into a temporary directory
(`predictq train language`, about a minute). PREDICTQ_* variables of the calling shell
are ignored: every process gets its settings from the benchmark. Tables go to stdout;
--write replaces (or adds) this script's sections of docs/BENCHMARKS.md and leaves
every other section alone. Every process and temporary directory is removed at the
end, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# `python loadtest/bench.py` puts loadtest/ first on sys.path, not the repository.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtest import harness, wrk
from loadtest.sections import drain, intake, latency, limit, memory, queues
from loadtest.sections.common import DEFAULT_AMQP, MODEL, Config
from loadtest.stats import Goal, table

DOC = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md"
SECTIONS = ("limit", "drain", "intake", "latency", "memory")
EXTRA_SECTIONS = ("queues",)  # run only when named in --sections
HEADINGS = {
    "summary": "## Issue #6 goals at a glance",
    "limit": "## Limit: the language model in-process",
    "drain": "## Worker drain rate",
    "intake": "## Intake through gunicorn",
    "latency": "## End-to-end latency at fixed arrival rates",
    "memory": "## Worker memory under steady load",
    "queues": "## Queue types: quorum beside classic (issue 16)",
}
MODULES = {"limit": limit, "drain": drain, "intake": intake, "latency": latency,
           "memory": memory, "queues": queues}


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import sklearn

    return (f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}, scikit-learn {sklearn.__version__}, "
            f"{revision()}")


def revision() -> str:
    """The commit measured, and whether the code differs from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=harness.REPO, capture_output=True,
                              text=True, timeout=10).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", "predictq",
                    "api", "worker", "models")
    except (OSError, subprocess.SubprocessError):
        return "commit unknown"
    if not commit:
        return "commit unknown"
    return f"commit {commit}" + (" with uncommitted changes to the service" if dirty else "")


def load_avg() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


@dataclass
class Section:
    """One measured section, ready to print or write."""

    key: str
    body: str
    load_before: str
    load_after: str
    when: str
    seconds: float
    command: str
    goals: list[Goal] = field(default_factory=list)

    def markdown(self, machine_line: str) -> str:
        return (f"{HEADINGS[self.key]}\n\n"
                f"Measured by `loadtest/bench.py`: `{self.command}`\n\n"
                f"{self.when}, {machine_line}; load average (1/5/15 min) {self.load_before} "
                f"at the start and {self.load_after} at the end ({self.seconds:.0f} s).\n\n"
                f"{self.body}\n")


def run_section(key: str, cfg: Config, results: dict[str, Any]) -> Section:
    """Measure one section, render it, print it as soon as it is done."""
    print(f"\n== {key}", flush=True)
    before, started = load_avg(), time.monotonic()
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    module = MODULES[key]
    results[key] = module.measure(cfg)
    goals: list[Goal] = []
    if key == "drain":  # its ratios are against the limit measured in this run
        body = drain.render(results["drain"], results.get("limit"), cfg)
        goals = drain.goals(results["drain"], results.get("limit"), cfg.batch_size)
    else:
        body = module.render(results[key], cfg)
        if key not in ("limit", "queues"):
            goals = module.goals(results[key])
    section = Section(key, body, before, load_avg(), when, time.monotonic() - started,
                      cfg.command, goals)
    print("\n" + section.markdown(machine()), flush=True)
    return section


def summary(sections: Sequence[Section]) -> Section:
    """Every goal of the run in one table, with the section it comes from."""
    rows = [[HEADINGS[s.key].removeprefix("## "), *g.row()] for s in sections for g in s.goals]
    body = ("Each figure is explained in its section below; all from the same run.\n\n"
            + table(["section", "goal (issue #6)", "measured", "target", ""], rows,
                    right=(2, 3)))
    first = sections[0]
    return Section("summary", body, first.load_before, sections[-1].load_after, first.when,
                   sum(s.seconds for s in sections), first.command)


def write_sections(sections: Sequence[Section], doc: Path = DOC) -> None:
    """Replace each of our sections in `doc`, or add it after the others; every other
    section (e.g. bench_models.py's) stays as it is."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    line = machine()
    for s in sections:
        new = s.markdown(line)
        pattern = re.compile(rf"^{re.escape(HEADINGS[s.key])}\n.*?(?=^## |\Z)", re.S | re.M)
        if pattern.search(text):
            text = pattern.sub(lambda _, new=new: new + "\n", text)
        else:
            text = text.rstrip("\n") + "\n\n" + new
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def train_model(workdir: Path) -> Path:
    """Train `language` once into a temporary model dir with `predictq train`."""
    model_dir = workdir / "models"
    env = harness.base_env()
    env.update(PREDICTQ_MODEL_DIR=str(model_dir), PREDICTQ_DATA_DIR=str(workdir / "train"))
    print(f"training {MODEL} into {model_dir} (about a minute; --model-dir skips this)",
          flush=True)
    subprocess.run([sys.executable, "-m", "predictq", "train", MODEL], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return model_dir


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="small N and short durations: a smoke run of a few minutes")
    p.add_argument("--sections", default=",".join(SECTIONS),
                   help=f"comma-separated subset of {','.join(SECTIONS)} (default all)")
    p.add_argument("--amqp-url", default=DEFAULT_AMQP, help="RabbitMQ to use")
    p.add_argument("--model-dir", type=Path,
                   help="reuse a trained language model (default: train one into a temp dir)")
    p.add_argument("--write", action="store_true", help=f"update docs/{DOC.name}")
    p.add_argument("--keep", action="store_true",
                   help="keep the data dirs and process logs (printed path) to inspect")
    p.add_argument("--drain-n", type=int, help="texts per drain cell (5,000; quick 1,000)")
    p.add_argument("--rates", help="latency arrival rates per second (default 50,200,500)")
    p.add_argument("--latency-seconds", type=float, help="per rate (20; quick 5)")
    p.add_argument("--intake-seconds", type=int, help="per wrk run (10; quick 5)")
    p.add_argument("--memory-minutes", type=float, help="memory run length (10; quick 1)")
    p.add_argument("--queue-types", default="classic,quorum",
                   help="queues section: RabbitMQ queue types to compare, in turn "
                        "(default classic,quorum; ratios are last / first)")
    p.add_argument("--rounds", type=int, default=2,
                   help="queues section: rounds of every cell on every type (default 2)")
    p.add_argument("--queue-cells", default="drain,intake",
                   help="queues section: which cells, of drain,intake (default both)")
    p.add_argument("--rabbit-cluster", action="store_true",
                   help="queues section: on a throwaway 3-node cluster (root; drain only)")
    args = p.parse_args(argv)
    unknown = set(args.sections.split(",")) - set(SECTIONS) - set(EXTRA_SECTIONS)
    if unknown:
        p.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    from predictq.topology import QUEUE_TYPES

    bad = set(args.queue_types.split(",")) - set(QUEUE_TYPES)
    if bad:
        p.error(f"unknown queue type(s): {', '.join(sorted(bad))}")
    bad = set(args.queue_cells.split(",")) - {"drain", "intake"}
    if bad:
        p.error(f"unknown queue cell(s): {', '.join(sorted(bad))}")
    if args.rabbit_cluster and "intake" in args.queue_cells.split(","):
        p.error("--rabbit-cluster measures the drain cells only: add --queue-cells drain")
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    return args


def make_config(args: argparse.Namespace, workdir: Path, model_dir: Path,
                argv: Sequence[str]) -> Config:
    wanted = set(args.sections.split(","))
    if "drain" in wanted:
        wanted.add("limit")  # the drain ratios are against the limit measured in this run
    cfg = Config(sections=tuple(s for s in (*SECTIONS, *EXTRA_SECTIONS) if s in wanted),
                 amqp_url=args.amqp_url, model_dir=model_dir, workdir=workdir,
                 command=shlex.join(["python", "loadtest/bench.py", *argv]), quick=args.quick,
                 queue_types=tuple(args.queue_types.split(",")), queue_rounds=args.rounds,
                 queue_cells=tuple(args.queue_cells.split(",")),
                 rabbit_cluster=args.rabbit_cluster)
    if args.quick:
        cfg.limit_texts, cfg.limit_repeat, cfg.drain_n = 512, 2, 1000
        cfg.intake_s, cfg.latency_s, cfg.memory_minutes = 5, 5.0, 1.0
    for name, value in (("drain_n", args.drain_n), ("intake_s", args.intake_seconds),
                        ("latency_s", args.latency_seconds),
                        ("memory_minutes", args.memory_minutes)):
        if value is not None:
            setattr(cfg, name, value)
    if args.rates:
        cfg.rates = tuple(float(r) for r in args.rates.split(","))
    return cfg


def check_prerequisites(cfg: Config) -> None:
    """Fail before measuring anything if wrk or RabbitMQ is missing."""
    if "intake" in cfg.sections or ("queues" in cfg.sections and "intake" in cfg.queue_cells):
        wrk.require_wrk()
    if "queues" in cfg.sections and not cfg.rabbit_cluster and not shutil.which("rabbitmqctl"):
        raise SystemExit("the queues section checks each queue's type with rabbitmqctl "
                         "(list_queues name type): run it where rabbitmqctl reaches the broker")
    if set(cfg.sections) & {"drain", "intake", "latency", "memory", "queues"}:
        problem = harness.amqp_reachable(cfg.amqp_url)
        if problem:
            raise SystemExit(f"RabbitMQ is not reachable at {cfg.amqp_url} ({problem}); "
                             "start it or pass --amqp-url")


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run(args: argparse.Namespace, argv: Sequence[str]) -> list[Section]:
    """Measure the chosen sections in a temporary directory removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="predictq-bench-") as tmp:
        workdir = Path(tempfile.mkdtemp(prefix="predictq-bench-")) if args.keep else Path(tmp)
        if args.keep:
            print(f"keeping data dirs and logs in {workdir}", flush=True)
        model_dir = args.model_dir.resolve() if args.model_dir else None
        cfg = make_config(args, workdir, model_dir or workdir / "models", argv)
        check_prerequisites(cfg)
        if model_dir is None:
            cfg.model_dir = train_model(workdir)
        results: dict[str, Any] = {}
        return [run_section(key, cfg, results) for key in cfg.sections]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    # Ctrl-C and SIGTERM unwind through every `finally`: processes stopped, queues and
    # temporary directories removed. (SIGINT too, in case a shell started us ignoring it.)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        sections = run(args, argv)
    except KeyboardInterrupt:
        print("\ninterrupted: processes stopped, temporary files removed", file=sys.stderr)
        return 130
    if set(SECTIONS) <= {s.key for s in sections}:  # a partial run has no summary
        sections.insert(0, summary(sections))
        print("\n" + sections[0].markdown(machine()), flush=True)
    if args.write:
        write_sections(sections)
        print(f"wrote {len(sections)} section(s) to {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
