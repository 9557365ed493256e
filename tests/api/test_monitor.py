"""GET /v1/monitor (one sample of everything the dashboard draws) and the page."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import ui
from predictq.broadcast import Broadcast
from predictq.service_alerts.monitor import evaluate
from tests.api.test_ops import submit
from tests.conftest import drain

TEMPLATES = Path(ui.__file__).parent / "templates"


def test_a_sample_has_queues_rates_latency_workers_and_alerts(client, settings, services):
    for _ in range(4):
        submit(client)
    sample = client.get("/v1/monitor").get_json()
    queues = {q["family"]: q for q in sample["queues"]}
    assert queues["text"]["queue"] == f"{settings.queue_prefix}.text"
    assert queues["text"]["depth"] == 4 and queues["text"]["consumers"] == 0
    assert queues["text"]["oldest_age_seconds"] >= 0
    assert sample["dead_letter"] == {"queue": f"{settings.queue_prefix}.dead", "depth": 0}
    assert sample["streams"]["depth"] == 0 and sample["streams"]["partitions"] == 8
    assert sample["health"] == {"store": {"ok": True}, "broker": {"ok": True}}
    assert sample["rates"]["submitted_per_s"] == 0.4  # 4 in the last 10 s
    assert sample["latency"] == {"window_s": 60.0, "jobs": 0, "p50_s": None, "p99_s": None}
    assert sample["workers"] == {"known": False, "list": []}  # memory://: RabbitMQ-like
    assert sample["rules"]["dead_letters"] == 0 and sample["rules"]["webhook"] is False
    assert sample["alerts"]["firing"] == [] and sample["alerts"]["recent"] == []

    drain(settings, 4)
    sample = client.get("/v1/monitor").get_json()
    assert sample["rates"]["completed_per_s"] == 0.4
    latency = sample["latency"]
    assert latency["jobs"] == 4 and 0 < latency["p50_s"] <= latency["p99_s"] < 30
    assert sample["queues"][0]["depth"] == 0 and sample["queues"][0]["oldest_age_seconds"] is None


def test_a_firing_alert_is_in_the_sample(client, settings, services):
    settings = settings.replace(service_alert_oldest_age_s=0,
                                service_alert_no_consumer_for_s=0)
    evaluate(settings, services.store, services.publisher, now=1e10)
    alerts = client.get("/v1/monitor").get_json()["alerts"]
    subjects = sorted(a["subject"] for a in alerts["firing"])
    assert subjects == [f"{settings.queue_prefix}.sensor", f"{settings.queue_prefix}.text"]
    assert alerts["firing"][0]["rule"] == "no_consumer"
    assert alerts["firing"][0]["message"].endswith("has no consumer")


def test_the_dashboard_page_and_every_page_links_it(client):
    page = client.get("/dashboard").get_data(as_text=True)
    assert "dashboard.js" in page and 'id="chart-depth"' in page
    script = client.get("/static/dashboard.js").get_data(as_text=True)
    assert "textContent" in script and "innerHTML" not in script
    assert "/v1/monitor" in script
    for template in TEMPLATES.glob("*.html"):
        nav = re.search(r'<nav class="topnav".*?</nav>', template.read_text(), re.S)
        assert nav and "monitor.dashboard" in nav.group(0), template.name


def test_the_sample_stream_sends_a_sample_every_interval(client):
    started = time.monotonic()
    r = client.get("/v1/monitor/events?wait=4.5")
    assert r.status_code == 200 and r.mimetype == "text/event-stream"
    body = r.get_data(as_text=True)  # the stream ends when its wait runs out
    took = time.monotonic() - started
    events = [b for b in body.split("\n\n") if b.startswith("event:")]
    assert 2 <= len(events) <= 4 and took >= 4.0
    name, data = events[0].split("\n", 1)
    assert name == "event: sample"
    assert {"at", "queues", "rates", "latency", "alerts"} <= set(
        json.loads(data.removeprefix("data: ")))


def test_watchers_share_one_sample_per_interval():
    produced = []
    feed = Broadcast(lambda: produced.append(1) or len(produced), every_s=0.1)
    got: dict[int, list[int]] = {0: [], 1: [], 2: []}

    def watch(i: int) -> None:
        got[i].extend(feed.subscribe(0.55))

    threads = [threading.Thread(target=watch, args=(i,)) for i in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    feed.close()
    # One value per interval between the three watchers (each producing its own would
    # make about 18 in 0.55 s), each seen in order.
    assert 1 <= len(produced) <= 8
    for values in got.values():
        assert values == sorted(values) and set(values) <= set(range(1, len(produced) + 1))
        assert values


def test_a_watcher_after_a_pause_gets_a_fresh_value_not_the_last_one():
    """Once the last watcher left, the value kept is old: the next watcher waits for a
    new one instead of being shown it as current."""
    state = {"value": "before"}

    def produce() -> str:
        time.sleep(0.2)  # a real sample takes a while: the old value is there first
        return state["value"]

    feed = Broadcast(produce, every_s=0.05)
    assert next(feed.subscribe(2.0)) == "before"
    deadline = time.monotonic() + 2
    while feed._running and time.monotonic() < deadline:  # the producer stops
        time.sleep(0.01)
    state["value"] = "after"
    assert next(feed.subscribe(2.0)) == "after"
    feed.close()
