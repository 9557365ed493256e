"""Per-sensor stream detectors (ML only): events in a power signal, anomalies in any.

A worker feeds each sensor's readings, in order, to a `StreamModel` and checkpoints
`to_state()` (a small JSON-able dict); `from_state` continues bit-identically.
See EVENTS_MODEL_CARD.md and ANOMALY_MODEL_CARD.md.
"""

from models.streams.model import (
    ANOMALY_DETECTORS,
    DEFAULT_ANOMALY_DETECTOR,
    DEFAULT_EVENT_DETECTOR,
    EVENT_DETECTORS,
    StreamModel,
)
from models.streams.types import ClosedEvent, Step
from models.streams.window import appliance_window

__all__ = [
    "ANOMALY_DETECTORS",
    "DEFAULT_ANOMALY_DETECTOR",
    "DEFAULT_EVENT_DETECTOR",
    "EVENT_DETECTORS",
    "ClosedEvent",
    "Step",
    "StreamModel",
    "appliance_window",
]
