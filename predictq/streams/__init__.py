"""Sensor streams: readings in, events, anomaly scores and alerts out (docs/STREAMS.md)."""
