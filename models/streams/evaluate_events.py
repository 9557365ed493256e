"""`python -m models.streams.evaluate_events`: score the event detectors, write the card.

Every event detector runs over the same streams (models/streams/data.py); detected
events are matched one-to-one to true ones at IoU >= 0.5; each matched event's readings
go through `appliance_window` into the real `appliance` model (trained here, into a
temporary folder, on the ACSF1 *train* split; the events are *test* series).
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.streams import data
from models.streams.metrics import match, prf
from models.streams.model import DEFAULT_EVENT_DETECTOR, EVENT_DETECTORS
from models.streams.window import appliance_window

CARD = Path(__file__).parent / "EVENTS_MODEL_CARD.md"


@dataclass
class EventResult:
    name: str
    found: int
    true: int
    tp: int
    start_err: list[int]
    end_err: list[int]
    correct: int  # matched events whose predicted label is right
    seconds: float

    @property
    def prf(self) -> tuple[float, float, float]:
        return prf(self.tp, self.found, self.true)


def detect(name: str, values: np.ndarray) -> list[tuple[int, int]]:
    detector = EVENT_DETECTORS[name]()
    update = detector.update
    out = []
    for i, x in enumerate(values.tolist()):
        closed = update(float(i), x)[2]
        if closed is not None:
            out.append((int(closed.start_t), int(closed.end_t)))
    return out


def classify(model, windows: list[list[float]]) -> list[str]:
    if not windows:
        return []
    inputs = [{"sensor_id": "s", "timestamp": 0, "sampling_period_ms": 1000, "readings": w}
              for w in windows]
    return [r["label"] for r in model.predict(inputs)]


def evaluate(name: str, streams: list[data.EventStream], model) -> EventResult:
    found = true = tp = correct = 0
    start_err: list[int] = []
    end_err: list[int] = []
    seconds = 0.0
    for stream in streams:
        began = time.perf_counter()
        detected = detect(name, stream.values)
        seconds += time.perf_counter() - began
        truth = [(e.start, e.end) for e in stream.events]
        pairs = match(truth, detected)
        found, true, tp = found + len(detected), true + len(truth), tp + len(pairs)
        windows, labels = [], []
        for i, j in pairs:
            start_err.append(abs(detected[j][0] - truth[i][0]))
            end_err.append(abs(detected[j][1] - truth[i][1]))
            windows.append(appliance_window(stream.values[detected[j][0]:detected[j][1] + 1]))
            labels.append(stream.events[i].label)
        correct += sum(p == y for p, y in zip(classify(model, windows), labels, strict=True))
    return EventResult(name, found, true, tp, start_err, end_err, correct, seconds)


def ceiling(streams: list[data.EventStream], model) -> float:
    windows, labels = [], []
    for stream in streams:
        for e in stream.events:
            windows.append(appliance_window(stream.values[e.start:e.end + 1]))
            labels.append(e.label)
    predicted = classify(model, windows)
    return float(np.mean([p == y for p, y in zip(predicted, labels, strict=True)]))


def _row(r: EventResult, default: bool) -> str:
    p, rec, f1 = r.prf
    name = f"**{r.name}** (default)" if default else r.name

    def stat(v: list[int], f) -> str:
        return f"{f(v):.1f}" if v else "–"

    return (f"| {name} | {r.found} | {r.tp} | {p:.3f} | {rec:.3f} | {f1:.3f} | "
            f"{stat(r.start_err, np.mean)} / {stat(r.start_err, np.median)} | "
            f"{stat(r.end_err, np.mean)} / {stat(r.end_err, np.median)} | "
            f"{r.correct / r.true:.3f} | {r.correct / r.tp if r.tp else 0:.3f} |")


def write_card(results: list[EventResult], top: float, streams: list[data.EventStream],
               train_seconds: float) -> str:
    from models.streams import card_text

    n_readings = sum(len(s.values) for s in streams)
    n_events = sum(len(s.events) for s in streams)
    table = "\n".join(_row(r, r.name == DEFAULT_EVENT_DETECTOR) for r in results)
    speed = ", ".join(f"{r.name} {n_readings / r.seconds:,.0f}" for r in results)
    text = card_text.EVENTS.format(
        header=card_text.EVENTS_HEADER,
        n_streams=len(streams), n_readings=n_readings, n_events=n_events, table=table,
        ceiling=top, speed=speed, train_seconds=train_seconds, seed=data.SEED,
        delta=data.DELTA, lead=data.LEAD_FRAMES, gap=data.GAP_FRAMES,
        n_runs=len(data.quiet_runs(data.acsf1.load()[0].X)),
        default=DEFAULT_EVENT_DETECTOR, machine=_machine())
    CARD.write_text(text)
    return text


def _machine() -> str:
    return (f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
            f"numpy {np.__version__}; load average {os.getloadavg()[0]:.1f}")


def main(argv: list[str] | None = None) -> int:
    from models.loading import LoadedModel
    from models.registry import get_spec

    streams = data.build_streams()
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        get_spec("appliance").train(Path(tmp))
        train_seconds = time.perf_counter() - began
        model = LoadedModel.load(Path(tmp), "appliance")
        top = ceiling(streams, model)
        results = [evaluate(name, streams, model) for name in EVENT_DETECTORS]
    print(write_card(results, top, streams, train_seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
