"""Each reading's effect is applied exactly once, under kill -9 of stream workers.

For the embedded broker and for RabbitMQ, on the SQLite store: the seeded workload of
loadtest/stream_chaos.py (30 sensors, ~65,000 readings, steps and spikes) is posted once
with one stream worker and nothing killed (the reference), and once more on a fresh
store with two stream workers, one of which (in turn) gets SIGKILL every 1.5-3 s while
the readings arrive, a replacement started each time. After both drained, the events,
the anomaly alerts, the per-sensor counters and the events' jobs must be identical.
Each kill waits (up to 1.5 s) for its victim to be using the CPU, so that it lands inside
a pass rather than on an idle worker: with kills at random moments, a processor that
created an event's job twice on replay went unnoticed; with these it fails.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from loadtest import stream_chaos
from tests.conftest import AMQP_URL, rabbitmq_available

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Below these the workload no longer exercises what the test is about (the seeded
# workload gives 87 events and 64 anomaly alerts with discord v2).
MIN_EVENTS = 60
MIN_ALERTS = 40
MIN_KILLS = 4
POST_S = 16.0  # the chaos run's posting is spread over this long: room for the kills


def _exactly_once(tmp_path: Path, broker_url: str, prefixes: tuple[str, str]) -> None:
    reference = stream_chaos.run(tmp_path / "reference", broker_url, prefixes[0],
                                 workers=1)
    assert not reference.pending_left, (
        f"reference run: sensors still pending {reference.pending_left}")
    assert len(reference.events) >= MIN_EVENTS, len(reference.events)
    assert len(reference.alerts) >= MIN_ALERTS, len(reference.alerts)
    assert {kind for _, _, kind, _ in reference.alerts} == {"anomaly"}
    assert reference.jobs, "no event became a job"

    chaos = stream_chaos.run(tmp_path / "chaos", broker_url, prefixes[1], workers=2,
                             chaos=True, post_s=POST_S)
    print(f"\n{broker_url or 'embedded'}: reference {len(reference.events)} events, "
          f"{len(reference.alerts)} alerts, {len(reference.jobs)} jobs; chaos "
          f"{chaos.kills} kills while posting ({chaos.busy_kills} caught computing, "
          f"{chaos.interrupted} holding unacked wake-ups) for {chaos.post_s:.1f} s, drained "
          f"{chaos.drain_s:.1f} s later, longest stall of a pending sensor "
          f"{chaos.max_stall_s:.1f} s")
    assert chaos.kills >= MIN_KILLS, f"only {chaos.kills} kills while posting"
    assert not chaos.pending_left, (
        f"not drained {stream_chaos.DRAIN_TIMEOUT_S:.0f} s after posting; sensors still "
        f"pending (sensor: batches): {chaos.pending_left}")
    problems = stream_chaos.compare(reference, chaos)
    assert not problems, "\n".join(problems)


def test_embedded_kill_9_applies_each_reading_once(tmp_path: Path):
    _exactly_once(tmp_path, "", ("predictq", "predictq"))


@pytest.mark.rabbitmq
def test_rabbitmq_kill_9_applies_each_reading_once(tmp_path: Path):
    # As the amqp_settings fixture, without the language model it would train.
    if not rabbitmq_available():
        if os.environ.get("PREDICTQ_REQUIRE_RABBITMQ") == "1":
            pytest.fail(f"RabbitMQ is required (PREDICTQ_REQUIRE_RABBITMQ=1) but "
                        f"{AMQP_URL} is unreachable")
        pytest.skip(f"no RabbitMQ at {AMQP_URL}")
    prefixes = (f"scref{uuid.uuid4().hex[:8]}", f"scchaos{uuid.uuid4().hex[:8]}")
    try:
        _exactly_once(tmp_path, AMQP_URL, prefixes)
    finally:
        for prefix in prefixes:
            stream_chaos.delete_queues(AMQP_URL, prefix)
