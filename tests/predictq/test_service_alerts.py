"""Alerts on the service itself: rules evaluated over a broker we control and a real
SQLite store, on a clock we control; the webhook is a function that fails on demand."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from predictq.errors import BrokerUnavailable, StoreUnavailable
from predictq.jobs import Job
from predictq.messaging import QueueStats
from predictq.service_alerts import delivery
from predictq.service_alerts.monitor import AlertMonitor
from predictq.service_alerts.rules import Condition, step
from predictq.settings import Settings
from predictq.store import open_store
from predictq.store.service_alerts import FIRING, PENDING, RESOLVED


class Broker:
    """`Publisher.stats` / `partition_stats` with depths and consumers set by the test."""

    def __init__(self) -> None:
        self.depth = {"text": 0, "sensor": 0, "dead": 0}
        self.consumers = {"text": 1, "sensor": 1, "dead": 0}
        self.down = False

    def stats(self, families):
        if self.down:
            raise BrokerUnavailable("broker unreachable: connection refused")
        return [QueueStats(f"t.{f}", self.depth[f], self.consumers[f]) for f in families]

    def partition_stats(self):
        if self.down:
            raise BrokerUnavailable("broker unreachable: connection refused")
        return [QueueStats("t.stream.0", 0, 1)]


class Webhook:
    """Records what it took; answers 503 (or refuses) while `up` is False."""

    def __init__(self) -> None:
        self.up = True
        self.taken: list[dict] = []
        self.refused = 0

    def __call__(self, url: str, body: dict) -> int:
        assert url == "http://hooks.test/ops"
        if not self.up:
            self.refused += 1
            if self.refused % 2:
                raise ConnectionRefusedError("refused")
            return 503
        self.taken.append(body)
        return 204

    def ids(self) -> Counter:
        return Counter(b["notification_id"] for b in self.taken)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path, queue_prefix="t", service_alert_interval_s=1,
                    service_alert_queue_depth=100, service_alert_queue_depth_for_s=30,
                    service_alert_oldest_age_s=0, service_alert_no_consumer_for_s=20,
                    service_alert_down_for_s=10,
                    service_alert_webhook_url="http://hooks.test/ops")


@pytest.fixture
def store(settings):
    with open_store(settings.resolved_store_url) as store:
        yield store


def states(store) -> dict[tuple[str, str], str]:
    return {a.key: a.state for a in store.service_alerts.active()}


def test_an_alert_opens_after_its_duration_and_resolves_once(settings, store):
    broker, hook = Broker(), Webhook()
    monitor = AlertMonitor(settings, store, broker, post=hook)
    deliver = delivery.deliverer(settings, store, post=hook)
    broker.depth["text"] = 500
    assert monitor.run_once(1000.0)
    assert states(store) == {("queue_depth", "t.text"): PENDING}
    monitor.run_once(1000.5)  # within the round another process... or this one: skipped
    monitor.run_once(1029.0)
    assert states(store) == {("queue_depth", "t.text"): PENDING}
    assert deliver.deliver_once(now=1029.0) == 0
    monitor.run_once(1030.0)
    assert states(store) == {("queue_depth", "t.text"): FIRING}
    for t in range(1031, 1060, 2):  # holding: still one alert, nothing new to say
        monitor.run_once(float(t))
    assert deliver.deliver_once(now=1060.0) == 1
    (opened,) = hook.taken
    assert opened["event"] == "opened" and opened["rule"] == "queue_depth"
    assert opened["alert_id"] == "queue_depth:t.text:1000000"
    assert "t.text holds 500 messages" in opened["text"]
    broker.depth["text"] = 3
    monitor.run_once(1061.0)
    assert states(store) == {}
    (alert,) = store.service_alerts.recent()
    assert alert.state == RESOLVED and (alert.opened_at, alert.resolved_at) == (1030.0, 1061.0)
    assert deliver.deliver_once(now=1062.0) == 1
    assert [b["event"] for b in hook.taken] == ["opened", "resolved"]
    assert deliver.deliver_once(now=2000.0) == 0


def test_a_condition_that_flaps_faster_than_its_duration_never_opens(settings, store):
    broker, hook = Broker(), Webhook()
    monitor = AlertMonitor(settings, store, broker, post=hook)
    for i in range(20):  # 20 s deep, 5 s shallow, over and over: never 30 s in a row
        t = 1000.0 + i * 25
        broker.depth["text"] = 500
        monitor.run_once(t)
        monitor.run_once(t + 19)
        broker.depth["text"] = 0
        monitor.run_once(t + 20)
    assert states(store) == {} and store.service_alerts.recent() == []
    assert store.service_alerts.notifications() == []


def test_each_rule_of_the_issue(settings, store):
    broker = Broker()
    monitor = AlertMonitor(settings.replace(service_alert_oldest_age_s=60), store, broker,
                           post=Webhook())
    store.create([Job(model="language", input={"text": "hej"}, created_at=900.0,
                      updated_at=900.0)])
    broker.depth["dead"] = 1
    broker.consumers["sensor"] = 0
    monitor.run_once(1000.0)
    assert states(store) == {("oldest_age", "t.text"): FIRING,  # waited 100 s > 60 s
                             ("dead_letters", "t.dead"): FIRING,  # > 0, at once
                             ("no_consumer", "t.sensor"): PENDING}  # for 20 s first
    monitor.run_once(1020.0)
    assert states(store)[("no_consumer", "t.sensor")] == FIRING
    # The broker goes away: its rules cannot be evaluated, so they stay as they were,
    # and after 10 s the broker itself is alerted.
    broker.down = True
    monitor.run_once(1030.0)
    monitor.run_once(1040.0)
    assert states(store) == {("oldest_age", "t.text"): FIRING,
                             ("dead_letters", "t.dead"): FIRING,
                             ("no_consumer", "t.sensor"): FIRING,
                             ("broker_down", "broker"): FIRING}
    broker.down = False
    broker.depth["dead"] = 0
    broker.consumers["sensor"] = 2
    monitor.run_once(1050.0)
    assert states(store) == {("oldest_age", "t.text"): FIRING}
    resolved = {a.rule for a in store.service_alerts.recent() if a.state == RESOLVED}
    assert resolved == {"dead_letters", "no_consumer", "broker_down"}


def test_webhook_down_then_up_delivers_every_opening_and_resolving_once(settings, store):
    broker, hook = Broker(), Webhook()
    monitors = [AlertMonitor(settings, store, broker, post=hook) for _ in range(3)]
    deliverers = [delivery.deliverer(settings, store, post=hook) for _ in range(2)]
    hook.up = False
    t = time.time()  # the deliverer schedules retries on the real clock
    # Three alert episodes come and go while the receiver is down, evaluated by three
    # workers at once (one of them wins each round).
    for _episode in range(3):
        broker.depth["dead"] = 2
        for _ in range(4):
            for m in monitors:
                m.run_once(t)
            for d in deliverers:
                d.deliver_once(now=t)
            t += 1
        broker.depth["dead"] = 0
        for m in monitors:
            m.run_once(t)
        t += 2
    assert hook.taken == [] and hook.refused > 0
    hook.up = True
    for _ in range(40):  # backoff: at most 2^attempts s apart
        for d in deliverers:
            d.deliver_once(now=t)
        t += 30
    ids = hook.ids()
    assert len(ids) == 6 and set(ids.values()) == {1}, ids
    assert Counter(i.rsplit(":", 1)[1] for i in ids) == {"opened": 3, "resolved": 3}
    assert all(n.delivered_at is not None for n in store.service_alerts.notifications())


def test_without_a_webhook_alerts_are_kept_but_nothing_is_queued(settings, store):
    settings = settings.replace(service_alert_webhook_url="", alert_webhook_url="")
    broker = Broker()
    broker.depth["dead"] = 1
    AlertMonitor(settings, store, broker).run_once(1000.0)
    assert states(store) == {("dead_letters", "t.dead"): FIRING}
    assert store.service_alerts.notifications() == []
    # The sensor alerts' webhook serves both when no separate one is set.
    assert delivery.webhook_url(settings.replace(alert_webhook_url="http://a")) == "http://a"


class FlakyStore:
    """The real store, but `ping` fails while `down` (as every other call would)."""

    def __init__(self, store) -> None:
        self.store = store
        self.down = False

    def ping(self):
        if self.down:
            raise StoreUnavailable("SQLite store unavailable: disk I/O error")
        self.store.ping()

    def __getattr__(self, name):
        return getattr(self.store, name)


def test_store_down_is_alerted_from_memory_and_recorded_when_back(settings, store):
    broker, hook = Broker(), Webhook()
    flaky = FlakyStore(store)
    monitor = AlertMonitor(settings, flaky, broker, post=hook)
    monitor.run_once(1000.0)
    flaky.down = True
    monitor.run_once(1001.0)
    monitor.run_once(1005.0)
    assert hook.taken == []  # not yet for 10 s
    hook.up = False
    monitor.run_once(1011.0)  # opens; the receiver is down too
    monitor.run_once(1011.5)  # backing off: no new attempt
    assert hook.refused == 1
    hook.up = True
    monitor.run_once(1013.0)  # retried from memory
    assert [b["event"] for b in hook.taken] == ["opened"]
    assert hook.taken[0]["alert_id"] == "store_down:store:1001000"
    monitor.run_once(1020.0)
    assert len(hook.taken) == 1  # once
    hook.up = False
    flaky.down = False
    monitor.run_once(1030.0)  # back: resolved, its notification left in the outbox
    (alert,) = store.service_alerts.recent()
    assert (alert.rule, alert.state, alert.opened_at, alert.resolved_at) == \
        ("store_down", RESOLVED, 1011.0, 1030.0)
    notes = {n.kind: n for n in store.service_alerts.notifications()}
    assert notes["opened"].delivered_at == 1013.0 and notes["resolved"].delivered_at is None
    hook.up = True
    assert delivery.deliverer(settings, store, post=hook).deliver_once(now=1031.0) == 1
    assert [b["event"] for b in hook.taken] == ["opened", "resolved"]
    assert set(hook.ids().values()) == {1}


def test_step_is_pure_and_keeps_unknown_rules():
    holding = [Condition("queue_depth", "q", 9, 5, 0, "deep")]
    first = step(holding, [], set(), 10.0)
    (alert,) = first.upserts
    assert alert.state == FIRING and [n.kind for n in first.notifications] == ["opened"]
    # queue depth unknown (broker down): the firing alert is neither resolved nor touched
    assert step([], [alert], {"queue_depth"}, 20.0).upserts == []
    later = step([], [alert], set(), 20.0)
    assert later.upserts[0].state == RESOLVED and later.notifications[0].kind == "resolved"


def test_predictq_status_lists_firing_alerts(tmp_path, model_dir):
    from click.testing import CliRunner

    from predictq.cli import main

    env = {"PREDICTQ_DATA_DIR": str(tmp_path / "var"), "PREDICTQ_MODEL_DIR": str(model_dir)}
    settings = Settings.from_env(env)
    with open_store(settings.resolved_store_url) as store:
        broker = Broker()
        broker.depth["dead"] = 2
        broker.consumers["sensor"] = 0  # pending for 20 s: not listed
        AlertMonitor(settings.replace(service_alert_no_consumer_for_s=20), store,
                     broker).run_once(time.time())
    result = CliRunner().invoke(main, ["status"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "alerts: 1 firing\n  FIRING dead_letters t.dead: 2 message(s) in the " \
        "dead-letter queue t.dead" in result.output.replace("predictq.dead", "t.dead")
    result = CliRunner().invoke(main, ["status", "--json"], env=env, catch_exceptions=False)
    (alert,) = json.loads(result.output)["alerts"]
    assert alert["rule"] == "dead_letters" and alert["state"] == "firing"
