"""How the stream workers share the partitions, on the embedded broker and RabbitMQ.

Each partition queue has one active consumer; the workers spread them by letting their
excess go (worker/streams.py). What a user relies on: at any moment a partition has at
most one owner, a second worker takes over part of the load, and when a worker leaves
its partitions are taken over within seconds. Asserted as properties reached within a
generous bound, never as timings.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator

import pytest

from predictq.services import Services
from predictq.settings import Settings
from predictq.topology import partition_of
from worker.factory import create_stream_consumer
from worker.streams import StreamConsumer

SENSORS = [f"meter-{i}" for i in range(48)]
T0 = 1_714_564_800.0


@pytest.fixture(params=["embedded", "rabbitmq"])
def stream_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    if request.param == "embedded":
        return settings.replace(broker_url="")
    return request.getfixturevalue("amqp_settings")


class Feed:
    """Posts one reading per sensor every 50 ms until stopped, so every partition keeps
    delivering and ownership is visible."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.sent = 0

    def _run(self) -> None:
        from predictq.streams.records import Reading

        i = 0
        while not self.stop.is_set():
            for sensor in SENSORS:
                self.services.readings.store.sensors  # noqa: B018 (the same store)
                self.services.readings.submit(
                    sensor, {"readings": [{"t": T0 + i, "value": float(i % 7)}]})
                self.sent += 1
            i += 1
            self.stop.wait(0.05)
        del Reading


def start(settings: Settings) -> tuple[StreamConsumer, threading.Thread]:
    consumer = create_stream_consumer(settings, batch_size=64, batch_wait_ms=20)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    return consumer, thread


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"not reached within {timeout:.0f} s: {what}")


@pytest.fixture
def feed(stream_settings: Settings) -> Iterator[Feed]:
    services = Services.build(stream_settings)
    feed = Feed(services)
    feed.thread.start()
    yield feed
    feed.stop.set()
    feed.thread.join(10)
    services.close()


def test_partitions_spread_over_workers_and_move_when_one_leaves(stream_settings, feed):
    partitions = stream_settings.stream_partitions
    busy = {partition_of(stream_settings, s) for s in SENSORS}
    assert busy == set(range(partitions))  # every partition has traffic
    a, thread_a = start(stream_settings)
    try:
        wait_for(lambda: len(a.owned) == partitions, 30, "one worker owns every partition")
        b, thread_b = start(stream_settings)
        share = math.ceil(partitions / 2)
        try:
            def spread() -> bool:
                owned_a, owned_b = set(a.owned), set(b.owned)
                assert not owned_a & owned_b, f"two owners: {owned_a & owned_b}"
                return 0 < len(owned_a) <= share and 0 < len(owned_b) <= share \
                    and len(owned_a | owned_b) == partitions
            wait_for(spread, 60, f"both workers own at most {share} partitions each")
            print(f"spread: a={a.owned} b={b.owned}, a let go of {a.yielded}")
        finally:
            b.stop_event.set()
            thread_b.join(15)
        wait_for(lambda: len(a.owned) == partitions, 30,
                 "the remaining worker takes every partition back")
    finally:
        a.stop_event.set()
        thread_a.join(15)
    # Every reading sent was applied by someone, once.
    store = feed.services.store
    feed.stop.set()
    feed.thread.join(10)
    c, thread_c = start(stream_settings)
    try:
        wait_for(lambda: all(
            (info := store.sensors.sensor(s)) is not None and info.applied_n == info.batches
            for s in SENSORS), 60, "every batch applied")
    finally:
        c.stop_event.set()
        thread_c.join(15)
    assert sum(store.sensors.sensor(s).readings for s in SENSORS) == feed.sent
