"""`store.service_alerts` and `store.latency` on every backend (SQLite, mongomock, the
MongoDB wire server): the evaluation lease, alert records, the notification outbox."""

from __future__ import annotations

import threading
import time

from predictq.jobs import Job, Outcome, Status
from predictq.store.service_alerts import FIRING, PENDING, RESOLVED, Notification, ServiceAlert


def test_one_round_per_interval_across_callers(store):
    alerts = store.service_alerts
    assert alerts.claim_round(100.0, 5) is True
    assert alerts.claim_round(101.0, 5) is False
    assert alerts.claim_round(104.9, 5) is False
    assert alerts.claim_round(105.0, 5) is True
    # Concurrent callers at one moment: exactly one wins.
    wins = []
    barrier = threading.Barrier(6)

    def claim():
        barrier.wait()
        wins.append(alerts.claim_round(200.0, 5))

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 5 + [True]


def alert(state=FIRING, since=10.0, subject="predictq.text", **kw):
    return ServiceAlert("queue_depth", subject, state, since, value=7, threshold=5,
                        message="deep", updated_at=kw.pop("updated_at", since), **kw)


def test_alerts_are_kept_replaced_and_deleted(store):
    alerts = store.service_alerts
    assert alerts.active() == [] and alerts.recent() == []
    pending = alert(PENDING, since=20.0, subject="predictq.sensor")
    firing = alert(FIRING, since=10.0, opened_at=12.0)
    alerts.apply([pending, firing], [], [])
    assert [a.alert_id for a in alerts.active()] == [firing.alert_id, pending.alert_id]
    assert alerts.recent() == [firing]  # pending ones are nobody's business yet
    resolved = alert(RESOLVED, since=10.0, opened_at=12.0, resolved_at=30.0, updated_at=30.0)
    alerts.apply([resolved], [pending.alert_id], [])
    assert alerts.active() == []
    assert alerts.recent() == [resolved]
    assert resolved.to_public()["alert_id"] == "queue_depth:predictq.text:10000"


def test_notifications_are_queued_once_claimed_with_a_lease_and_delivered(store):
    alerts = store.service_alerts
    a = alert(FIRING, opened_at=12.0)
    opened = Notification.of(a, "opened", 12.0)
    alerts.apply([a], [], [opened])
    alerts.apply([a], [], [Notification.of(a, "opened", 13.0)])  # the same id again
    assert [n.notification_id for n in alerts.notifications()] == [opened.notification_id]
    assert alerts.claim_due(11.0, 60) == []  # not due yet
    (claimed,) = alerts.claim_due(12.0, 60)
    assert claimed.attempts == 1 and claimed.body["event"] == "opened"
    assert claimed.body["notification_id"] == f"{a.alert_id}:opened"
    assert alerts.claim_due(13.0, 60) == []  # leased
    alerts.failed(claimed.notification_id, "HTTP 503", retry_at=20.0)
    assert alerts.claim_due(19.0, 60) == []
    (again,) = alerts.claim_due(20.0, 60)
    assert again.attempts == 2 and again.last_error == "HTTP 503"
    alerts.delivered(again.notification_id, 21.0)
    alerts.failed(again.notification_id, "late", retry_at=22.0)  # ignored once delivered
    assert alerts.claim_due(1e9, 60) == []
    (stored,) = alerts.notifications()
    assert stored.delivered_at == 21.0 and stored.last_error is None


def test_latency_of_recently_done_jobs(store):
    now = time.time()
    jobs = [Job(model="language", input={"text": f"t{i}"}, tracking_id=f"j{i}",
                created_at=now - 10 + i, updated_at=now - 10 + i) for i in range(5)]
    store.create(jobs)
    store.finish([Outcome(f"j{i}", Status.DONE, result={"label": "en"}) for i in range(3)])
    store.finish([Outcome("j3", Status.FAILED, error="no")])
    latencies = store.latency.finished_since(now - 60)
    assert len(latencies) == 3  # done only: failed and queued jobs are not latencies
    assert all(0 < s < 60 for s in latencies)
    gaps = [b - a for a, b in zip(sorted(latencies), sorted(latencies)[1:], strict=False)]
    assert all(abs(g - 1.0) < 0.01 for g in gaps)  # created 1 s apart, finished together
    assert len(store.latency.finished_since(now - 60, limit=2)) == 2
    assert store.latency.finished_since(time.time() + 5) == []
