"""The `rabbit_cluster` fixture: a three-node RabbitMQ cluster started on this machine for
the node-loss tests (loadtest/rabbit_cluster.py does the work), once per session, and
always taken down at its end.

Skipped where it cannot run (not root, no rabbitmq-server), unless
PREDICTQ_REQUIRE_RABBITMQ=1 (as in CI), where that is a failure. Tests that kill or
pause nodes use `cluster`, which brings every node back after the test.

    from tests.rabbit_cluster import cluster, rabbit_cluster  # noqa: F401 (fixtures)
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from loadtest.rabbit_cluster import RabbitCluster, available


@pytest.fixture(scope="session")
def rabbit_cluster() -> Iterator[RabbitCluster]:
    problem = available()
    if problem is not None:
        if os.environ.get("PREDICTQ_REQUIRE_RABBITMQ") == "1":
            pytest.fail(f"the RabbitMQ cluster tests cannot run: {problem}")
        pytest.skip(f"no RabbitMQ cluster here: {problem}")
    # Not under pytest's temp folder, which only root may enter: the nodes run as the
    # rabbitmq user. RabbitCluster hands the folder to that user and removes it.
    cluster = RabbitCluster(Path(tempfile.mkdtemp(prefix="predictq-cluster-")))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def cluster(rabbit_cluster: RabbitCluster) -> Iterator[RabbitCluster]:
    """The session's cluster, every node running again after the test."""
    yield rabbit_cluster
    rabbit_cluster.heal()
