"""The reduced chaos run (loadtest/chaos.py): crashes, a broker outage, an API restart,
and afterwards every accepted submission final: 0 lost, 0 stuck."""

from __future__ import annotations

import pytest

from loadtest import chaos
from tests.chaos_report import assert_nothing_lost, require_rabbitmqctl

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]


def test_accepted_means_never_lost(amqp_settings):
    require_rabbitmqctl()
    report = chaos.run(total=400, rate=25)
    assert_nothing_lost(report)
