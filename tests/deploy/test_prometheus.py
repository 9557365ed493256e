"""deploy/prometheus/alerts.yml: valid (`promtool check rules`), each rule firing when it
should (`promtool test rules`), and every predictq metric it names exported by /metrics.

promtool comes with Debian's `prometheus` package (.ci/run installs it); without it
the promtool tests skip, except with PREDICTQ_REQUIRE_PROMTOOL=1 (CI), where that
is a failure. The metric-name test needs nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

RULES_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULES = RULES_DIR / "alerts.yml"
PROMTOOL = shutil.which("promtool")


@pytest.fixture
def promtool() -> str:
    if PROMTOOL is None:
        if os.environ.get("PREDICTQ_REQUIRE_PROMTOOL") == "1":
            pytest.fail("PREDICTQ_REQUIRE_PROMTOOL=1 but promtool is missing")
        pytest.skip("needs promtool (Debian package prometheus)")
    return PROMTOOL


def test_promtool_accepts_the_rules(promtool):
    done = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 7 rules found" in done.stdout


def test_each_rule_fires_when_it_should(promtool):
    done = subprocess.run([promtool, "test", "rules", "alerts_test.yml"], cwd=RULES_DIR,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def rule_metrics() -> set[str]:
    """The predictq_* names in the rules' expressions (labels and summaries excluded)."""
    text = RULES.read_text()
    exprs = re.findall(r"expr: \|\n((?:\s{10}.*\n)+)|expr: (.*)\n", text)
    assert len(exprs) == 7
    return {name for block, line in exprs
            for name in re.findall(r"\bpredictq_[a-z_]+\b", block + line)}


def test_every_metric_the_rules_read_is_exported(client):
    names = rule_metrics()
    assert names == {"predictq_queue_depth", "predictq_oldest_waiting_seconds",
                     "predictq_dead_letters", "predictq_queue_consumers",
                     "predictq_store_up", "predictq_broker_up"}
    client.post("/v1/predictions", json={"model": "language", "input": {"text": "hej"}})
    body = client.get("/metrics").get_data(as_text=True)
    samples = {line.split("{")[0].split(" ")[0] for line in body.splitlines()
               if line and not line.startswith("#")}
    assert names <= samples, names - samples
    assert "predictq_store_up 1.0" in body and "predictq_broker_up 1.0" in body
    assert re.search(r'predictq_queue_consumers\{queue="t\w+\.text"\} 0\.0', body)
    assert re.search(r'predictq_oldest_waiting_seconds\{queue="t\w+\.text"\} \d', body)
    assert re.search(r'predictq_dead_letters\{queue="t\w+\.dead"\} 0\.0', body)


def test_metrics_answer_with_the_store_down(client, services, monkeypatch):
    from predictq.errors import StoreUnavailable

    def down(*args, **kwargs):
        raise StoreUnavailable("SQLite store unavailable: disk I/O error")

    for name in ("ping", "oldest_created_at", "count_by_status"):
        monkeypatch.setattr(services.store, name, down)
    response = client.get("/metrics")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "predictq_store_up 0.0" in body and "predictq_broker_up 1.0" in body
