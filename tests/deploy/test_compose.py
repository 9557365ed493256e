"""docker-compose.yml validates, with and without the `ha` profile, and the HA shape
wires predictq to every node: three RabbitMQ nodes in one cluster, a three-member
MongoDB replica set, quorum queues. `docker-compose config` needs no Docker engine
(Debian's docker-compose package); without it the test is skipped, unless
PREDICTQ_REQUIRE_COMPOSE=1."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def compose(*args: str) -> str:
    if shutil.which("docker-compose") is None:
        if os.environ.get("PREDICTQ_REQUIRE_COMPOSE") == "1":
            pytest.fail("docker-compose is required (PREDICTQ_REQUIRE_COMPOSE=1)")
        pytest.skip("no docker-compose (apt-get install docker-compose)")
    done = subprocess.run(["docker-compose", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_default_topology_validates():
    compose("config", "-q")
    services = compose("config", "--services").split()
    assert {"rabbitmq", "mongo", "api", "worker"} <= set(services)


def test_the_ha_profile_is_a_cluster_and_a_replica_set():
    services = set(compose("--profile", "ha", "config", "--services").split())
    assert {"rabbit1", "rabbit2", "rabbit3", "mongo1", "mongo2", "mongo3", "mongo-init",
            "api-ha", "worker-ha"} <= services
    config = compose("--profile", "ha", "config")
    for node in ("rabbit1", "rabbit2", "rabbit3"):
        assert f"amqp://predictq:predictq@{node}:5672/predictq" in config
    assert "mongodb://mongo1:27017,mongo2:27017,mongo3:27017/predictq?replicaSet=rs0" \
        in config
    assert "PREDICTQ_QUEUE_TYPE: quorum" in config
    assert config.count("--replSet") == 3
    rabbit_conf = (REPO / "deploy/ha/rabbitmq.conf").read_text()
    for i, node in enumerate(("rabbit1", "rabbit2", "rabbit3"), start=1):
        assert f"cluster_formation.classic_config.nodes.{i} = rabbit@{node}" in rabbit_conf


def test_the_api_services_ask_for_keys_and_locust_can_send_one():
    yaml = pytest.importorskip("yaml")

    config = yaml.safe_load(compose("--profile", "ha", "--profile", "loadtest", "config"))
    services = config["services"]
    for name in ("api", "api-ha"):
        assert services[name]["environment"]["PREDICTQ_API_KEYS"] == "on", name
    assert "PREDICTQ_API_KEY" in services["locust"]["environment"]
    assert "predictq keys create" in (REPO / "docker-compose.yml").read_text()
