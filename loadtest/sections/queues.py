"""queues: the RabbitMQ throughput figures on each queue type, side by side (issue 16).

Not part of the default run: `--sections queues`. For each round, for each cell (a
drain of `drain_n` texts one-by-one, the same at the worker's default micro-batch, the
intake's single and bulk wrk runs), for each type of `--queue-types`: the cell of
sections/drain.py or sections/intake.py with PREDICTQ_QUEUE_TYPE set to that type.
So the types take turns cell by cell (classic, quorum, classic, quorum …) and whatever
the machine does meanwhile falls on both alike; the ratios are from this one run.

Every cell declares its queues under a fresh prefix (a queue's type cannot change in
place, and RabbitMQ refuses a redeclaration with other arguments) and deletes them at
its end; before the workers start (drain) or after wrk (intake), `rabbitmqctl
list_queues name type` must show `<prefix>.text` with the cell's type, or the run stops.

`--rabbit-cluster` runs the drain cells on a throwaway 3-node cluster
(loadtest/rabbit_cluster.py, needs root): a quorum queue there replicates every
publish and ack to a majority before it counts, which one node cannot show.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import statistics
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from loadtest.sections import drain, intake
from loadtest.sections.common import Config, real_texts
from loadtest.stats import fmt, ratio, table
from predictq.settings import Settings

CELLS = ("drain-1", "drain-batch", "intake")


@dataclass(frozen=True)
class Figure:
    """One figure the cells give: how to label it, its unit, how rounds combine."""

    key: str
    label: str
    unit: str
    higher_is_better: bool = True
    total: bool = False  # summed over the rounds (a count), not their median


def figures(batch: int) -> list[Figure]:
    return [
        Figure("drain_1", "drain items/s, one-by-one (batch 1), 1 worker", "/s"),
        Figure("drain_b", f"drain items/s, micro-batch ({batch}), 1 worker", "/s"),
        Figure("fill", "fill items/s (in-process: store, then confirmed publish)", "/s"),
        Figure("single_rps", "intake single req/s (wrk -c 16)", "/s"),
        Figure("single_p50", "intake single p50", "ms", higher_is_better=False),
        Figure("single_p99", "intake single p99", "ms", higher_is_better=False),
        Figure("bulk_items", "intake bulk items/s (1,000/request, wrk -c 4)", "/s"),
        Figure("bulk_p99", "intake bulk p99", "ms", higher_is_better=False),
        Figure("errors", "intake non-2xx + socket errors + accepted-not-stored (all rounds)",
               "", higher_is_better=False, total=True),
    ]


@dataclass
class Sample:
    """What one cell measured on one queue type in one round."""

    round: int
    cell: str
    queue_type: str
    values: dict[str, float] = field(default_factory=dict)


def schedule(types: Sequence[str], rounds: int, cells: Sequence[str] = CELLS
             ) -> list[tuple[int, str, str]]:
    """(round, cell, queue type) in the order they run: round by round, cell by cell,
    the types taking turns within each cell, so each pair runs back to back."""
    return [(r, cell, t) for r in range(1, rounds + 1) for cell in cells for t in types]


def cells_for(parts: Sequence[str]) -> tuple[str, ...]:
    """The cells of `--queue-cells drain,intake`."""
    wanted = {"drain": ("drain-1", "drain-batch"), "intake": ("intake",)}
    return tuple(c for part in parts for c in wanted[part])


@dataclass
class Row:
    figure: Figure
    per_type: dict[str, float]  # the median over the rounds (or total)
    rounds: dict[str, list[float]]  # per type, one value per round
    ratio: float  # last type / first type
    paired: list[float]  # the same ratio round by round


def summarize(samples: Sequence[Sample], types: Sequence[str], batch: int) -> list[Row]:
    """Per figure: each type's median over the rounds (a total for counts), the ratio
    of the last type to the first (quorum / classic), and that ratio round by round.
    Figures no sample has are left out."""
    rows = []
    rounds = sorted({s.round for s in samples})
    for fig in figures(batch):
        by: dict[str, dict[int, list[float]]] = {t: {} for t in types}
        for s in samples:
            if fig.key in s.values:
                by[s.queue_type].setdefault(s.round, []).append(s.values[fig.key])
        if not any(by.values()):
            continue
        combine: Callable[[list[float]], float] = sum if fig.total else statistics.median
        per_round = {t: [combine(by[t][r]) for r in rounds if r in by[t]] for t in types}
        per_type = {t: (combine(v) if v else float("nan")) for t, v in per_round.items()}
        first, last = types[0], types[-1]
        paired = [ratio(combine(by[last][r]), combine(by[first][r])) for r in rounds
                  if r in by[first] and r in by[last]]
        rows.append(Row(fig, per_type, per_round, ratio(per_type[last], per_type[first]),
                        paired))
    return rows


def _value(v: float, unit: str) -> str:
    return fmt(v, unit) if unit else fmt(float(v))


def _ratio(v: float) -> str:
    return fmt(v) if v != v else f"{v:.2f}×"  # NaN → n/a


def render_rows(rows: Sequence[Row], types: Sequence[str]) -> str:
    """The table: per figure, each type's median (its rounds in brackets) and the
    last/first ratio, overall and round by round."""
    first, last = types[0], types[-1]
    header = ["figure", *(f"{t} (median)" for t in types), f"{last} / {first}",
              "per round", *(f"{t} rounds" for t in types)]
    body = []
    for row in rows:
        unit = row.figure.unit
        better = "" if row.figure.total else (
            " (higher is better)" if row.figure.higher_is_better else " (lower is better)")
        body.append([row.figure.label + better,
                     *(_value(row.per_type[t], unit) for t in types),
                     _ratio(row.ratio), ", ".join(_ratio(p) for p in row.paired),
                     *(", ".join(_value(v, unit) for v in row.rounds[t]) for t in types)])
    return table(header, body, right=tuple(range(1, 3 + len(types))))


def render(samples: Sequence[Sample], cfg: Config) -> str:
    types, batch = cfg.queue_types, cfg.batch_size
    settings = Settings()
    where = ("a throwaway 3-node RabbitMQ cluster (loadtest/rabbit_cluster.py; queues "
             "declared through node 1, so it leads them, with quorum members on all 3)"
             if cfg.rabbit_cluster else "one RabbitMQ node")
    parts = []
    if any(c.startswith("drain") for c in cfg.queue_cells):
        parts.append(f"drain: {cfg.drain_n:,} real texts per cell submitted in-process "
                     "into a fresh SQLite store and queue, then one `predictq worker "
                     f"--batch-size B` (B = 1, then {batch}); rate = N / (last − first "
                     "`updated_at`), start-up left out, as in \"Worker drain rate\"")
    if "intake" in cfg.queue_cells:
        parts.append(f"intake: `predictq api` ({settings.api_workers} processes × "
                     f"{settings.api_threads} threads, no workers) on a fresh SQLite store; "
                     f"`wrk --latency -t2`, {cfg.intake_s} s single (-c 16) then "
                     f"{cfg.bulk_s} s bulk (-c 4), as in \"Intake through gunicorn\"")
    order = "; ".join(f"{c}: {', '.join(types)}" for c in cells_for(cfg.queue_cells))
    rounds = f"{cfg.queue_rounds} round" + ("s" if cfg.queue_rounds != 1 else "")
    return (f"On {where}, {rounds}; in each round every cell runs once "
            f"per queue type, the types taking turns cell by cell ({order}), so noise "
            "falls on both alike. Each cell: "
            "PREDICTQ_QUEUE_TYPE set to its type, queues under a fresh prefix deleted at "
            "its end, and `rabbitmqctl list_queues name type` checked to show that type "
            "for `<prefix>.text` before the figures count. " + "; ".join(parts) + ". "
            f"Medians over the rounds; \"{types[-1]} / {types[0]}\" divides the medians, "
            "\"per round\" the pair of each round.\n\n"
            + render_rows(summarize(samples, types, batch), types))


# -- measuring --------------------------------------------------------------------------

def rabbitmqctl_types() -> dict[str, str]:
    """{queue name: type} as the local node's `rabbitmqctl list_queues name type`
    reports them (root or the rabbitmq user)."""
    out = subprocess.run(["rabbitmqctl", "list_queues", "-q", "--no-table-headers",
                          "name", "type"], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    return dict(line.split("\t")[:2] for line in out.splitlines() if "\t" in line)


def check_type(lister: Callable[[], Mapping[str, str]], prefix: str, want: str) -> str:
    """Raise unless the broker shows `<prefix>.text` as a `want` queue."""
    name = f"{prefix}.text"
    found = lister().get(name)
    if found != want:
        raise RuntimeError(f"{name} is a {found or 'missing'} queue on the broker, "
                           f"expected {want}")
    print(f"  rabbitmqctl list_queues: {name} {found}", flush=True)
    return found


def drain_values(cell: drain.DrainCell) -> dict[str, float]:
    key = "drain_1" if cell.batch == 1 else "drain_b"
    return {key: cell.rate, "fill": cell.n / cell.submit_s}


def intake_values(runs: Sequence[intake.IntakeRun]) -> dict[str, float]:
    values = {"errors": float(sum(r.result.errors + r.lost for r in runs))}
    for r in runs:
        if r.kind == "single":
            values.update(single_rps=r.result.requests_per_s, single_p50=r.result.p50_ms,
                          single_p99=r.result.p99_ms)
        else:
            values.update(bulk_items=r.items_per_s, bulk_p99=r.result.p99_ms)
    return values


@contextlib.contextmanager
def broker(cfg: Config) -> Iterator[tuple[Config, Callable[[], Mapping[str, str]]]]:
    """The config to measure with and how to list queue types: the local RabbitMQ, or a
    fresh 3-node cluster destroyed on exit."""
    if not cfg.rabbit_cluster:
        yield cfg, rabbitmqctl_types
        return
    from loadtest.rabbit_cluster import RabbitCluster, available

    problem = available()
    if problem:
        raise SystemExit(f"--rabbit-cluster: {problem}")
    print("  starting a 3-node RabbitMQ cluster …", flush=True)
    # Its own folder in /tmp: the nodes run as the rabbitmq user, who cannot enter the
    # benchmark's private (0700) work folder. destroy() removes it.
    with RabbitCluster(Path(tempfile.mkdtemp(prefix="predictq-cluster-"))) as cluster:
        print(f"  cluster up in {cluster.startup_s} s: "
              f"{', '.join(n.name for n in cluster.nodes)}", flush=True)

        def lister() -> dict[str, str]:
            return {k: v["type"] for k, v in cluster.queues(cluster.nodes[0]).items()}

        yield dataclasses.replace(cfg, amqp_url=cluster.urls[0]), lister


def measure(cfg: Config) -> list[Sample]:
    drain_texts, intake_texts = real_texts(cfg.drain_n), real_texts(4000)
    import predictq.services  # noqa: F401 - imported now, not inside the first cell's fill
    samples = []
    with broker(cfg) as (run_cfg, lister):
        for rnd, cell, qtype in schedule(cfg.queue_types, cfg.queue_rounds,
                                         cells_for(cfg.queue_cells)):
            print(f"  round {rnd}: {cell} on {qtype}", flush=True)
            check = functools.partial(check_type, lister, want=qtype)
            if cell == "intake":
                runs = intake.intake_runs(run_cfg, "rabbitmq", intake_texts,
                                          queue_type=qtype, after_runs=check)
                values = intake_values(runs)
            else:
                batch = 1 if cell == "drain-1" else cfg.batch_size
                result = drain.drain_cell(run_cfg, "rabbitmq", batch, 1, drain_texts,
                                          queue_type=qtype, after_fill=check)
                values = drain_values(result)
            samples.append(Sample(rnd, cell, qtype, values))
    return samples
