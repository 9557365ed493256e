"""`StreamModel`: one sensor's event detector and anomaly detector, checkpointable."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from models.streams.anomaly import DiscordAnomaly
from models.streams.baselines import SigmaEvents, ZScoreAnomaly
from models.streams.events import HysteresisEvents
from models.streams.types import LIMIT, Step

EVENT_DETECTORS: dict[str, type] = {cls.name: cls for cls in (SigmaEvents, HysteresisEvents)}
# River's HalfSpaceTrees is evaluation-only (models/streams/hst.py): its trees do not
# fit a small JSON checkpoint.
ANOMALY_DETECTORS: dict[str, type] = {cls.name: cls for cls in (DiscordAnomaly, ZScoreAnomaly)}
DEFAULT_EVENT_DETECTOR = "hysteresis"
DEFAULT_ANOMALY_DETECTOR = "discord"
STATE_FORMAT = 1


class StreamModel:
    """Per-sensor: one event detector + one anomaly detector."""

    def __init__(self, event_detector: str = DEFAULT_EVENT_DETECTOR,
                 anomaly_detector: str = DEFAULT_ANOMALY_DETECTOR) -> None:
        try:
            self.events = EVENT_DETECTORS[event_detector]()
            self.anomaly = ANOMALY_DETECTORS[anomaly_detector]()
        except KeyError as exc:
            raise ValueError(f"unknown detector {exc.args[0]!r}") from None
        self.last = 0.0  # the previous clean reading: what a NaN reading repeats

    def step(self, t: float, value: float) -> Step:
        """Apply one reading: score it, then learn from it."""
        return self.steps((t,), (value,))[0]

    def steps(self, ts: Sequence[float], values: Sequence[float]) -> list[Step]:
        """Apply readings in order; the same Steps as calling `step` for each."""
        events, anomaly = self.events.update, self.anomaly.update
        last = self.last
        out = []
        append = out.append
        for t, value in zip(ts, values, strict=True):
            x = float(value)
            # NaN repeats the previous reading; huge values saturate (types.LIMIT). Inlined:
            # this loop is the hot path.
            if x != x:
                x = last
            elif x > LIMIT:
                x = LIMIT
            elif x < -LIMIT:
                x = -LIMIT
            last = x
            smoothed, in_event, closed = events(float(t), x)
            score, anomalous = anomaly(x)
            append(Step(smoothed, in_event, closed, score, anomalous))
        self.last = last
        return out

    def to_state(self) -> dict[str, Any]:
        return {"format": STATE_FORMAT,
                "event_detector": self.events.name, "anomaly_detector": self.anomaly.name,
                "events": self.events.to_state(), "anomaly": self.anomaly.to_state(),
                "last": self.last}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> StreamModel:
        if state.get("format") != STATE_FORMAT:
            raise ValueError(f"unknown stream state format {state.get('format')!r}")
        model = cls.__new__(cls)
        model.events = EVENT_DETECTORS[state["event_detector"]].from_state(state["events"])
        model.anomaly = ANOMALY_DETECTORS[state["anomaly_detector"]].from_state(state["anomaly"])
        model.last = float(state["last"])
        return model

    @property
    def versions(self) -> dict[str, str]:
        return {"event_detector": f"{self.events.name}-{self.events.version}",
                "anomaly_detector": f"{self.anomaly.name}-{self.anomaly.version}"}
