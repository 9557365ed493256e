"""The reduced node-loss chaos run (loadtest/node_loss.py): predictq API + 2 workers on
quorum queues over the 3-node cluster, the busiest queue's leader killed twice and
paused once under load; every accepted submission final: 0 lost, 0 stuck."""

from __future__ import annotations

import json

import pytest

from loadtest import node_loss
from tests.chaos_report import assert_nothing_lost
from tests.rabbit_cluster import rabbit_cluster  # noqa: F401 (fixture)

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]


def test_accepted_means_never_lost_when_nodes_are(rabbit_cluster, model_dir):  # noqa: F811
    report = node_loss.run(total=900, rate=10, model_dir=model_dir, rabbit=rabbit_cluster)
    print(json.dumps(report.__dict__, indent=1, default=str))
    assert_nothing_lost(report)
    assert len(report.new_leader_after_kill_s) == 2, report.events
    assert all(s < 60 for s in report.new_leader_after_kill_s), report
    assert report.paused_s > 0, report.events
