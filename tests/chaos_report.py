"""What every chaos run must show, whichever store or broker it ran on."""

from __future__ import annotations

import os
import shutil

import pytest


def require_rabbitmqctl() -> None:
    """Skip without rabbitmqctl (it stops and starts the broker), fail in CI."""
    if shutil.which("rabbitmqctl") is None:
        if os.environ.get("PREDICTQ_REQUIRE_RABBITMQ") == "1":
            pytest.fail("the chaos test needs rabbitmqctl to stop and start the broker")
        pytest.skip("needs rabbitmqctl")


def assert_nothing_lost(report) -> None:
    # How many fall in the API's own outage depends on how far behind schedule the
    # submitters are when it is killed; refusals at any other time are the failure.
    assert report.refused_while_api_up == 0, report
    assert report.accepted >= report.total // 2, report
    assert report.lost == 0 and report.stuck == 0, report
    assert report.done + report.failed == report.accepted
    assert report.failed == 0, report  # nothing here is a poison input
    assert report.outbox_drained_after_broker_back_s is not None, report
