"""`python -m models.streams.evaluate_anomaly`: score the anomaly detectors, write the card.

Each labelled series is fed reading by reading (score, then learn) to a fresh detector
of each kind; alerts are scored by range (models/streams/metrics.py). Also measures
`StreamModel.steps` (default detectors) in readings per second and its state size.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.anomaly import data as anomaly_data
from models.streams import card_text
from models.streams import data as stream_data
from models.streams.anomaly import DiscordAnomaly
from models.streams.baselines import ZScoreAnomaly
from models.streams.hst import RiverHST
from models.streams.metrics import RangeScore, score_alerts
from models.streams.model import DEFAULT_ANOMALY_DETECTOR, StreamModel

CARD = Path(__file__).parent / "ANOMALY_MODEL_CARD.md"
# An alert up to TOLERANCE readings after a range still finds it: the discord detector
# judges a shape once its whole 32-reading window is in.
TOLERANCE = 100
# Alerts closer than GAP readings are one alert (one page to a person, not twenty).
GAP = 100
DETECTORS = {"discord": DiscordAnomaly, "zscore": ZScoreAnomaly, "river-hst": RiverHST}


@dataclass
class Run:
    detector: str
    series: str
    score: RangeScore
    seconds: float
    readings: int


def run(name: str, values: np.ndarray) -> tuple[np.ndarray, float]:
    detector = DETECTORS[name]()
    update = detector.update
    began = time.perf_counter()
    flags = np.fromiter((update(x)[1] for x in values.tolist()), dtype=bool,
                        count=len(values))
    return flags, time.perf_counter() - began


def evaluate() -> list[Run]:
    runs = []
    for series in anomaly_data.load():
        for name in DETECTORS:
            flags, seconds = run(name, series.values)
            runs.append(Run(name, series.name,
                            score_alerts(series.labels, flags, TOLERANCE, GAP),
                            seconds, len(series.values)))
    return runs


def pooled(runs: list[Run], name: str) -> RangeScore:
    mine = [r.score for r in runs if r.detector == name]
    return RangeScore(sum(s.ranges for s in mine), sum(s.detected for s in mine),
                      sum(s.alerts for s in mine), sum(s.false_alerts for s in mine),
                      [d for s in mine for d in s.delays],
                      sum(s.normal_readings for s in mine))


def speed(readings: int = 60_000, repeats: int = 3) -> tuple[float, int, int]:
    """Readings/s of StreamModel.steps on a real event stream; state bytes at 10k, end."""
    values = stream_data.build_streams()[0].values[:readings].tolist()
    ts = [float(i) for i in range(len(values))]
    best = float("inf")
    for _ in range(repeats):
        model = StreamModel()
        began = time.perf_counter()
        for i in range(0, len(values), 1000):  # a worker applies batches
            model.steps(ts[i:i + 1000], values[i:i + 1000])
        best = min(best, time.perf_counter() - began)
    at_10k = StreamModel()
    at_10k.steps(ts[:10_000], values[:10_000])
    return (len(values) / best, len(json.dumps(at_10k.to_state())),
            len(json.dumps(model.to_state())))


def _row(name: str, series: str, s: RangeScore) -> str:
    delay = f"{s.mean_delay:.0f}" if s.mean_delay is not None else "–"
    bold = f"**{name}**" if name == DEFAULT_ANOMALY_DETECTOR else name
    return (f"| {series} | {bold} | {s.detected}/{s.ranges} | {s.alerts} | {s.false_alerts} | "
            f"{s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {delay} | "
            f"{s.false_per_10k:.1f} |")


def write_card(runs: list[Run], rate: float, size_10k: int, size_end: int) -> str:
    rows = [_row(r.detector, r.series, r.score) for r in runs]
    rows += [_row(name, "pooled", pooled(runs, name)) for name in DETECTORS]
    throughput = ", ".join(
        f"{name} {sum(r.readings for r in runs if r.detector == name) / sum(r.seconds for r in runs if r.detector == name):,.0f}"  # noqa: E501
        for name in DETECTORS)
    text = card_text.ANOMALY.format(
        header=card_text.ANOMALY_HEADER,
        table="\n".join(rows), tolerance=TOLERANCE, gap=GAP, rate=rate,
        size_10k=size_10k, size_end=size_end, throughput=throughput, machine=_machine(),
        threshold=DiscordAnomaly.threshold, cap=DiscordAnomaly.cap)
    CARD.write_text(text)
    return text


def _machine() -> str:
    return (f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
            f"numpy {np.__version__}; load average {os.getloadavg()[0]:.1f}")


def main(argv: list[str] | None = None) -> int:
    runs = evaluate()
    print(write_card(runs, *speed()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
