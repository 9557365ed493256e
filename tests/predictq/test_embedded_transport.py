"""The embedded (file-system) transport's consuming side: order, news, competition."""

from __future__ import annotations

import os
import stat

import pytest
from kombu import Producer
from kombu.exceptions import ChannelError

from predictq.jobs import Job
from predictq.messaging import Publisher, connect, queue_for
from predictq.settings import Settings


def publish(settings: Settings, family: str, *bodies: str) -> None:
    with connect(settings) as conn:
        producer = Producer(conn.channel())
        queue = queue_for(settings, family)
        for body in bodies:
            producer.publish(body, exchange=queue.exchange, routing_key=family,
                             serializer="json", declare=[queue])


def take_all(channel, settings: Settings, family: str) -> list[str]:
    queue = queue_for(settings, family)(channel)
    out = []
    while (message := queue.get(no_ack=False)) is not None:
        out.append(message.decode())
        message.ack()
    return out


def test_messages_published_after_a_listing_are_still_taken_in_order(tmp_path, model_dir):
    settings = Settings(data_dir=tmp_path, model_dir=model_dir)
    publish(settings, "text", "t1", "t2", "t3")
    with connect(settings) as conn:
        channel = conn.channel()
        text = queue_for(settings, "text")(channel)
        first = text.get(no_ack=False)  # lists the inbox: t1..t3
        assert first.decode() == "t1"
        first.ack()
        publish(settings, "text", "t4", "t5")
        publish(settings, "sensor", "s1")
        # The other queue is not starved by names listed before it had any.
        assert take_all(channel, settings, "text") == ["t2", "t3", "t4", "t5"]
        assert take_all(channel, settings, "sensor") == ["s1"]


def test_two_consumers_share_a_backlog_and_each_message_goes_to_one(tmp_path, model_dir):
    settings = Settings(data_dir=tmp_path, model_dir=model_dir)
    bodies = [f"m{i:03d}" for i in range(60)]
    publish(settings, "text", *bodies)
    with connect(settings) as a, connect(settings) as b:
        queues = [queue_for(settings, "text")(c.channel()) for c in (a, b)]
        taken: list[list[str]] = [[], []]
        while True:
            got = [q.get(no_ack=False) for q in queues]
            for i, message in enumerate(got):
                if message is not None:
                    taken[i].append(message.decode())
                    message.ack()
            if all(m is None for m in got):
                break
    assert sorted(taken[0] + taken[1]) == bodies
    assert taken[0] and taken[1]
    assert taken[0] == sorted(taken[0]) and taken[1] == sorted(taken[1])


def test_each_queue_folder_gets_its_own_bindings_within_one_process(tmp_path, model_dir):
    # kombu's state is process-wide: the second folder's binding used not to be written
    # and its messages were dropped.
    for name in ("one", "two"):
        settings = Settings(data_dir=tmp_path / name, model_dir=model_dir)
        publish(settings, "text", name)
        with connect(settings) as conn:
            assert take_all(conn.channel(), settings, "text") == [name]


def test_a_message_no_queue_is_bound_for_is_refused_not_dropped(tmp_path, model_dir):
    settings = Settings(data_dir=tmp_path, model_dir=model_dir)
    publish(settings, "text", "bound")
    with connect(settings) as conn:
        producer = Producer(conn.channel())
        for table in (settings.queue_dir / "control").glob("*.exchange"):
            table.unlink()  # e.g. someone cleaned the folder while the API ran
        with pytest.raises(ChannelError, match="would be lost"):
            producer.publish("lost?", exchange=queue_for(settings, "text").exchange,
                             routing_key="text", serializer="json")


def test_the_publisher_recovers_when_the_bindings_vanish(tmp_path, model_dir):
    settings = Settings(data_dir=tmp_path, model_dir=model_dir)
    publisher = Publisher(settings)
    jobs = [Job(model="language", input={"text": f"t{i}"}) for i in range(2)]
    publisher.publish(jobs[:1], "text")
    for table in (settings.queue_dir / "control").glob("*.exchange"):
        table.unlink()
    publisher.publish(jobs[1:], "text")  # refused on the old connection, then redeclared
    publisher.close()
    with connect(settings) as conn:
        taken = take_all(conn.channel(), settings, "text")
    assert [body["tracking_id"] for body in taken] == [j.tracking_id for j in jobs]


def test_the_publisher_makes_the_message_folder_durable_once_per_publish(tmp_path, model_dir,
                                                                        monkeypatch):
    settings = Settings(data_dir=tmp_path, model_dir=model_dir)
    publisher = Publisher(settings)
    publisher.publish([Job(model="language", input={"text": "warm up"})], "text")
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    publisher.publish([Job(model="language", input={"text": f"t{i}"}) for i in range(5)],
                      "text")
    publisher.close()
    # Each message's contents, then one fsync of the folder for all five renames.
    assert synced == ["file"] * 5 + ["folder"]
