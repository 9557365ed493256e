"""Queue declarations: the queue type and its arguments per broker."""

from __future__ import annotations

import pytest

from predictq import topology
from predictq.settings import Settings

AMQP = Settings(broker_url="amqp://guest:guest@127.0.0.1:5672//", queue_prefix="p")


def test_quorum_by_default_with_the_backstop_on_job_queues_only():
    text = topology.queue_for(AMQP, "text").queue_arguments
    assert text["x-queue-type"] == "quorum"
    assert text["x-delivery-limit"] == topology.delivery_limit(AMQP) > AMQP.max_attempts
    assert (text["x-dead-letter-exchange"], text["x-dead-letter-routing-key"]) == ("p", "dead")
    assert text["x-dead-letter-strategy"] == "at-least-once"
    assert topology.dead_letter_queue(AMQP).queue_arguments == {"x-queue-type": "quorum"}
    (partition, *_) = topology.partition_queues(AMQP)
    assert partition.queue_arguments == {"x-single-active-consumer": True,
                                         "x-queue-type": "quorum"}


def test_classic_declares_no_type_arguments():
    classic = AMQP.replace(queue_type="classic")
    assert topology.queue_for(classic, "text").queue_arguments is None
    (partition, *_) = topology.partition_queues(classic)
    assert partition.queue_arguments == {"x-single-active-consumer": True}


def test_the_embedded_transport_ignores_the_setting():
    embedded = Settings(queue_type="quorum")
    assert topology.queue_type(embedded) == "classic"
    assert topology.queue_for(embedded, "text").queue_arguments is None


def test_an_unknown_queue_type_is_refused_by_name():
    with pytest.raises(ValueError, match="PREDICTQ_QUEUE_TYPE='mirrored'"):
        topology.queue_for(AMQP.replace(queue_type="mirrored"), "text")
