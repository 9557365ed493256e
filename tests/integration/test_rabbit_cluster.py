"""The three-node cluster the node-loss tests run on, and what quorum queues promise on
it: confirmed messages survive a kill -9 of their queue's leader; a killed node comes
back on its data and rejoins; a paused node is voted out and resumes."""

from __future__ import annotations

import time

import pytest
from kombu import Connection

from predictq import topology
from predictq.errors import BrokerUnavailable
from predictq.jobs import Job
from predictq.messaging import Publisher
from predictq.settings import Settings
from tests.rabbit_cluster import cluster, rabbit_cluster  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]


def settings_on(nodes, tmp_path, prefix: str) -> Settings:
    return Settings(data_dir=tmp_path, broker_url=nodes.failover_url, queue_prefix=prefix)


def wait_leader_elsewhere(nodes, queue: str, old: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        leader = nodes.queues().get(queue, {}).get("leader", "")
        if leader and leader != old:
            return leader
        time.sleep(0.5)
    raise AssertionError(f"{queue} has no new leader after {timeout:.0f} s")


def test_confirmed_messages_survive_a_kill_of_their_leader(cluster, tmp_path):  # noqa: F811
    settings = settings_on(cluster, tmp_path, "survive")
    publisher = Publisher(settings)
    jobs = [Job(model="language", input={"text": f"msg {i}"}) for i in range(2000)]
    for i in range(0, len(jobs), 500):
        publisher.publish(jobs[i:i + 500], "text")  # returns once confirmed
    publisher.close()
    name = topology.queue_name(settings, "text")
    assert cluster.queues()[name]["type"] == "quorum"
    leader = cluster.leader_of(name)
    cluster.kill(leader)
    began = time.monotonic()
    new = wait_leader_elsewhere(cluster, name, leader.name)
    print(f"new leader {new} after {time.monotonic() - began:.1f} s")
    survivor = next(n for n in cluster.nodes if n is not leader)
    seen = set()
    with Connection(survivor.url) as conn:
        queue = topology.queue_for(settings, "text")(conn.channel())
        while (message := queue.get(no_ack=True)) is not None:
            seen.add(message.payload["tracking_id"])
    assert seen == {job.tracking_id for job in jobs}
    took = cluster.restart(leader)
    print(f"{leader.name} back in {took} s")
    cluster.wait_cluster()
    with Connection(leader.url) as conn:
        conn.channel().queue_delete(name)


def test_a_paused_node_does_not_stop_confirms_and_comes_back(cluster, tmp_path):  # noqa: F811
    settings = settings_on(cluster, tmp_path, "pause")
    publisher = Publisher(settings)
    publisher.publish([Job(model="language", input={"text": "one"})], "text")
    name = topology.queue_name(settings, "text")
    leader = cluster.leader_of(name)
    cluster.pause(leader)
    try:
        # Through the failover list, a publish still gets its confirm from the majority
        # once the two others stop waiting for the paused leader.
        began = time.monotonic()
        while True:
            try:
                publisher.publish([Job(model="language", input={"text": "two"})], "text")
                break
            except BrokerUnavailable:
                assert time.monotonic() - began < 90, "no confirm with one node paused"
                time.sleep(0.5)
        print(f"confirmed with {leader.name} paused after {time.monotonic() - began:.1f} s")
    finally:
        cluster.resume(leader)
    publisher.close()
    cluster.wait_cluster()
    seen = []
    with Connection(leader.url) as conn:
        queue = topology.queue_for(settings, "text")(conn.channel())
        deadline = time.monotonic() + 60
        while len(seen) < 2 and time.monotonic() < deadline:
            message = queue.get(no_ack=True)
            if message is None:
                time.sleep(0.2)
            else:
                seen.append(message.payload["input"]["text"])
        conn.channel().queue_delete(name)
    assert sorted(seen) == ["one", "two"]
