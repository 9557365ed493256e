"""The stream side's housekeeping: wake-ups republished from the outbox, old readings
expired while events and alerts stay."""

from __future__ import annotations

import time

from predictq.errors import BrokerUnavailable
from predictq.streams.processor import StreamProcessor
from predictq.streams.sweeping import StreamSweeper

T0 = 1_714_564_800.0


def step(i: int) -> float:
    return 5.0 if 300 <= i < 500 else 0.1 + 0.01 * (i % 5)


def test_expired_readings_go_events_and_alerts_stay(services, settings) -> None:
    services.readings.submit("plug-1", {"readings": [{"t": T0 + i, "value": step(i)}
                                                     for i in range(1000)]})
    StreamProcessor(settings, services.store, None).process([{"sensor_id": "plug-1", "n": 1}])
    services.readings.submit("plug-1", {"readings": [{"t": T0 + 5000, "value": 0.1}]})
    events = services.store.sensors.events()
    assert len(events) == 1
    sweeper = StreamSweeper(settings.replace(readings_retention_s=3600), services.store,
                            services.publisher)

    assert sweeper.expire(now=T0 + 3000) == 0  # nothing old enough yet
    assert sweeper.expire(now=T0 + 1000 + 3601) == 1
    assert services.store.sensors.readings_between("plug-1", 0, T0 + 1e6) != []  # batch 2
    assert services.store.sensors.batches_after("plug-1", 0)[0].n == 2  # not applied: kept
    assert services.store.sensors.events() == events
    info = services.store.sensors.sensor("plug-1")
    assert info.readings == 1001 and info.events == 1


def test_unconfirmed_wake_ups_are_published_again(services, settings, monkeypatch) -> None:
    def down(messages):
        raise BrokerUnavailable("broker down")

    monkeypatch.setattr(services.publisher, "publish_stream", down)
    accepted = services.readings.submit("plug-1", {"readings": [{"t": T0, "value": 1.0}]})
    assert accepted.accepted == 1  # stored is accepted, broker or not
    assert len(services.store.sensors.unpublished_batches(time.time())) == 1
    monkeypatch.undo()

    sweeper = StreamSweeper(settings.replace(sweep_after_s=0), services.store,
                            services.publisher)
    assert sweeper.republish() == 1
    assert services.store.sensors.unpublished_batches(time.time()) == []
    assert sweeper.republish() == 0


def test_a_confirmed_wake_up_is_marked_published_in_the_background(services) -> None:
    services.readings.submit("plug-1", {"readings": [{"t": T0, "value": 1.0}]})
    deadline = time.monotonic() + 5
    while services.store.sensors.unpublished_batches(time.time()):
        assert time.monotonic() < deadline, "the batch was never marked published"
        time.sleep(0.01)
    # and the sweeper has nothing to send again
    services.readings.submit("plug-1", {"readings": [{"t": T0 + 1, "value": 1.0}]})
    services.readings.close()
    assert services.store.sensors.unpublished_batches(time.time()) == []
