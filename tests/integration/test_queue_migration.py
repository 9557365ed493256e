"""`predictq queues migrate --to quorum` on the local RabbitMQ: classic queues holding
jobs and a dead letter become quorum queues, every job ends done once a worker runs,
and the dead letter is kept."""

from __future__ import annotations

import json

import amqp
import pytest
from click.testing import CliRunner
from kombu import Connection

from predictq import topology
from predictq.cli import main
from predictq.jobs import Job, Status
from predictq.messaging import connect
from predictq.queue_migration import MigrationRefused, migrate
from predictq.services import Services
from tests.chaos_report import require_rabbitmqctl
from tests.conftest import drain
from tests.integration.test_quorum import queue_types

pytestmark = pytest.mark.rabbitmq


def test_classic_queues_with_jobs_and_a_dead_letter_migrate_to_quorum(amqp_settings):
    require_rabbitmqctl()
    classic = amqp_settings.replace(queue_type="classic", sweep_after_s=0,
                                    sweep_interval_s=1)
    services = Services.build(classic)
    jobs = [Job(model="language", input={"text": f"Bonjour à tous, numéro {i}."})
            for i in range(30)]
    services.store.create(jobs)
    services.publisher.publish(jobs, "text")
    services.store.mark_published([j.tracking_id for j in jobs])
    with connect(classic) as conn:
        topology.dead_letter(conn.Producer(conn.channel()), classic,
                             {"tracking_id": "t-dead", "model": "language"},
                             reason="kept for a person")
    services.publisher.close()
    prefix = classic.queue_prefix
    with Connection(classic.broker_url) as conn:
        for queue in topology.all_queues(classic):
            queue(conn.channel()).declare()
    assert set(queue_types(prefix).values()) == {"classic"}

    # A consumer attached: refused, nothing changed.
    with Connection(classic.broker_url) as raw:
        channel = raw.connection.channel()
        channel.basic_consume(f"{prefix}.text", callback=lambda m: None)
        with pytest.raises(MigrationRefused, match=f"{prefix}.text"):
            migrate(classic, services.store, "quorum")
    assert set(queue_types(prefix).values()) == {"classic"}

    result = CliRunner().invoke(main, ["queues", "migrate", "--to", "quorum"],
                                env=classic.as_env())
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout[result.stdout.index("{"):])
    assert report["dead_letters_moved"] == 1 and report["jobs_to_republish"] == 30
    assert f"{prefix}.text" in report["rebuilt"] and f"{prefix}.dead" in report["rebuilt"]
    types = queue_types(prefix)
    assert set(types.values()) == {"quorum"}, types
    assert set(types) == {q.name for q in topology.all_queues(classic)}

    quorum = classic.replace(queue_type="quorum")
    assert drain(quorum, 30, timeout=60, batch_size=8) >= 30
    assert services.store.count_by_status()[Status.DONE] == 30
    with Connection(quorum.broker_url) as conn:
        letter = topology.dead_letter_queue(quorum)(conn.channel()).get(no_ack=False)
        assert json.loads(letter.body)["tracking_id"] == "t-dead"
        assert letter.headers["x-predictq-reason"] == "kept for a person"
        letter.requeue()

    # Again: nothing left to rebuild, the dead letter stays where it is.
    again = migrate(quorum, services.store, "quorum")
    assert again.rebuilt == [] and again.dead_letters_moved == 0
    assert again.jobs_to_republish == 0
    services.close()


def test_a_move_cut_short_is_finished_by_running_it_again(amqp_settings):
    # A crash after the dead letters were parked and the old queue deleted leaves them
    # in the parking queue; the next run puts them in the new dead-letter queue.
    settings = amqp_settings.replace(queue_type="quorum")
    services = Services.build(settings)
    parking = f"{topology.dead_letter_queue(settings).name}.migrating"
    with Connection(settings.broker_url) as raw:
        channel = raw.connection.channel()
        channel.queue_declare(parking, durable=True, auto_delete=False)
        channel.confirm_select()
        channel.basic_publish_confirm(amqp.Message('{"tracking_id": "parked"}'),
                                      exchange="", routing_key=parking)
    report = migrate(settings, services.store, "quorum")
    assert report.dead_letters_moved == 1
    (dead,) = services.publisher.stats(["dead"])
    assert dead.depth == 1
    with Connection(settings.broker_url) as raw, pytest.raises(amqp.exceptions.NotFound):
        raw.connection.channel().queue_declare(parking, passive=True)
    services.close()
