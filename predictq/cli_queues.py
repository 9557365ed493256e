"""`predictq queues migrate --to quorum|classic`: rebuild a deployment's queues as
another queue type (predictq.queue_migration; docs/DEPLOYMENT.md)."""

from __future__ import annotations

import dataclasses
import json

import click

from predictq.settings import Settings
from predictq.topology import QUEUE_TYPES


@click.group()
def queues() -> None:
    """The deployment's RabbitMQ queues."""


@queues.command()
@click.option("--to", "to", required=True, type=click.Choice(QUEUE_TYPES),
              help="The queue type to move to; set PREDICTQ_QUEUE_TYPE to it everywhere.")
@click.pass_context
def migrate(ctx: click.Context, to: str) -> None:
    """Delete and declare again every queue not yet of type TO, keeping the dead
    letters; unfinished jobs and unapplied sensor batches are republished by the
    workers' sweepers. Refuses while consumers are attached: stop the workers first."""
    from predictq.errors import PredictqError
    from predictq.queue_migration import migrate as run
    from predictq.store import open_store

    settings: Settings = ctx.obj
    store = open_store(settings.resolved_store_url)
    try:
        report = run(settings, store, to)
    except PredictqError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        store.close()
    click.echo(json.dumps(dataclasses.asdict(report), indent=2))
    if settings.queue_type != to:
        click.echo(f"now start the workers with PREDICTQ_QUEUE_TYPE={to}", err=True)
