"""`predictq keys create|list|revoke`: the deployment's API keys (PREDICTQ_API_KEYS=on;
docs/SECURITY.md). They act on the store directly: whoever can run them can reach the
store, which is already everything."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import click

from predictq.apikeys import SCOPES
from predictq.settings import Settings
from predictq.store import Store


@contextmanager
def _store(ctx: click.Context) -> Iterator[Store]:
    from predictq.errors import PredictqError
    from predictq.store import open_store

    settings: Settings = ctx.obj
    store = open_store(settings.resolved_store_url)
    try:
        yield store
    except PredictqError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        store.close()


@click.group()
def keys() -> None:
    """API keys: made, listed and revoked here; only their hashes are stored."""


@keys.command()
@click.option("--scope", "scopes", multiple=True, required=True,
              type=click.Choice(SCOPES),
              help="Repeatable. submit, read (own jobs), read-all, feedback, admin (all).")
@click.option("--name", default="", help="Who or what the key is for (shown in `list`).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the secret included).")
@click.pass_context
def create(ctx: click.Context, scopes: tuple[str, ...], name: str, as_json: bool) -> None:
    """Make a key and print its secret, once: it cannot be shown again."""
    from predictq.apikeys import issue

    with _store(ctx) as store:
        key, secret = issue(store, scopes, name)
    if as_json:
        click.echo(json.dumps({**key.to_public(), "secret": secret}, indent=2))
        return
    click.echo(secret)
    click.echo(f"key {key.key_id} ({', '.join(key.scopes)}{', ' + name if name else ''}): "
               "the secret above is shown once; send it as 'Authorization: Bearer <secret>'",
               err=True)
    if not ctx.obj.keys_required:
        click.echo("note: PREDICTQ_API_KEYS is off here, so the API does not ask for keys",
                   err=True)


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def list_keys(ctx: click.Context, as_json: bool) -> None:
    """Every key: id, scopes, name, when made and revoked (never a secret)."""
    with _store(ctx) as store:
        found = store.keys.list()
    if as_json:
        click.echo(json.dumps([k.to_public() for k in found], indent=2))
        return
    click.echo(f"{'id':<14}{'prefix':<10}{'scopes':<28}{'created':<22}{'revoked':<22}name")
    for k in found:
        click.echo(f"{k.key_id:<14}{k.prefix:<10}{','.join(k.scopes):<28}"
                   f"{_when(k.created_at):<22}{_when(k.revoked_at):<22}{k.name}")


@keys.command()
@click.argument("key_id")
@click.pass_context
def revoke(ctx: click.Context, key_id: str) -> None:
    """Revoke KEY_ID: every API process refuses it within 5 s."""
    with _store(ctx) as store:
        if not store.keys.revoke(key_id, time.time()):
            raise click.ClickException(f"no API key {key_id!r}")
    click.echo(f"revoked {key_id}")


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
