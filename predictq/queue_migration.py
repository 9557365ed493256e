"""Moving a deployment's queues to another queue type (`predictq queues migrate`).

RabbitMQ cannot change a queue's type in place: the queue has to be deleted and
declared again. What that would lose, and how nothing is lost:

- the job queues and stream partitions hold only copies: every job not final is in the
  store, and so is every sensor batch not applied. They are deleted and declared anew,
  and afterwards every unfinished job and unapplied batch is marked unpublished in the
  store (`republish_unfinished`, `republish_unapplied`), so the workers' sweepers
  publish them into the new queues. A job published into an old queue a moment before
  it was deleted is covered too: the marking comes after the new queues exist. The cost
  is duplicates (a job waiting in the old queue is published again), which workers
  already suppress;
- the dead-letter queue is the one queue whose messages exist nowhere else. They move
  through a temporary queue, each one consumed, published with a confirm, and only
  then acked: a crash at any point loses none (a message may then be there twice), and
  running the command again finishes the move.

It refuses while any consumer is attached to a queue it would delete: stop the workers
first (the API may keep running; what it accepts meanwhile waits in the store).
A queue already of the target type, with the arguments it should have, is kept.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import amqp
from amqp.exceptions import NotFound, PreconditionFailed
from kombu import Connection, Queue

from predictq import topology
from predictq.errors import PredictqError
from predictq.messaging import connect
from predictq.settings import Settings
from predictq.store import Store


class MigrationRefused(PredictqError):
    status = 409
    code = "migration_refused"


@dataclass
class MigrationReport:
    to: str
    rebuilt: list[str] = field(default_factory=list)  # deleted and declared anew
    kept: list[str] = field(default_factory=list)  # already of the target type
    created: list[str] = field(default_factory=list)  # did not exist
    dead_letters_moved: int = 0
    jobs_to_republish: int = 0
    batches_to_republish: int = 0


def migrate(settings: Settings, store: Store, to: str) -> MigrationReport:
    """Make every queue of `settings`' deployment a `to` queue; see the module."""
    target = settings.replace(queue_type=to)
    topology.queue_type(target)  # refuses an unknown type by name
    if target.uses_embedded_broker:
        raise MigrationRefused("the embedded transport has no queue types: nothing to do")
    report = MigrationReport(to=to)
    dead = topology.dead_letter_queue(target)
    parking = f"{dead.name}.migrating"
    with connect(target) as conn:
        conn.ensure_connection(max_retries=3)
        queues = topology.all_queues(target)
        present = {q.name: _probe(conn, q.name) for q in queues}
        busy = sorted(name for name, found in present.items() if found and found[1])
        if busy:
            raise MigrationRefused(f"consumers are attached to {', '.join(busy)}: stop the "
                                   f"workers first")
        stale = [q for q in queues if present[q.name] is not None and not _is(conn, q)]
        report.kept = [q.name for q in queues if present[q.name] is not None
                       and q not in stale]
        report.created = [q.name for q in queues if present[q.name] is None]
        report.rebuilt = [q.name for q in stale]
        if dead in stale:
            with _channel(conn) as channel:
                channel.queue_declare(parking, durable=True, auto_delete=False)
            _move(conn, dead.name, parking)
        with _channel(conn) as channel:
            for queue in stale:
                channel.queue_delete(queue.name)
        channel = conn.channel()
        for queue in queues:
            queue(channel).declare()
        # Also after a crash between the two moves: the parking queue is left over.
        if _probe(conn, parking) is not None:
            report.dead_letters_moved = _move(conn, parking, dead.name)
            with _channel(conn) as channel:
                channel.queue_delete(parking)
    report.jobs_to_republish = store.republish_unfinished()
    report.batches_to_republish = store.sensors.republish_unapplied()  # type: ignore[attr-defined]
    return report


@contextlib.contextmanager
def _channel(conn: Connection) -> Iterator[amqp.Channel]:
    """A raw py-amqp channel of its own: a refused declare closes the channel it was on."""
    channel = conn.connection.channel()
    try:
        yield channel
    finally:
        with contextlib.suppress(Exception):
            channel.close()


def _probe(conn: Connection, name: str) -> tuple[int, int] | None:
    """(depth, consumers) of a queue, or None if there is no such queue."""
    try:
        with _channel(conn) as channel:
            _, depth, consumers = channel.queue_declare(name, passive=True)
    except NotFound:
        return None
    return depth, consumers


def _is(conn: Connection, queue: Queue) -> bool:
    """Whether the existing queue has exactly the arguments `queue` declares."""
    try:
        with _channel(conn) as channel:
            channel.queue_declare(queue.name, durable=True, auto_delete=False,
                                  arguments=queue.queue_arguments or {})
    except PreconditionFailed:
        return False
    return True


def _move(conn: Connection, source: str, destination: str) -> int:
    """Move every message from one queue to another, each published with a confirm
    before it is acked; return how many moved."""
    moved = 0
    with _channel(conn) as channel:
        channel.confirm_select()
        while (message := channel.basic_get(source, no_ack=False)) is not None:
            copy = amqp.Message(message.body, **message.properties)
            channel.basic_publish_confirm(copy, exchange="", routing_key=destination)
            channel.basic_ack(message.delivery_tag)
            moved += 1
    return moved
