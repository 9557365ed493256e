"""`predictq models …`, `predictq evaluate` and `predictq learn`: the model lifecycle from
the terminal. Every command acts on the deployment's store (PREDICTQ_STORE_URL) and
artifact folder (PREDICTQ_MODEL_DIR); workers follow within PREDICTQ_MODEL_POLL_MS."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from predictq.settings import Settings
from predictq.store import Store


@contextmanager
def _store(ctx: click.Context) -> Iterator[tuple[Settings, Store]]:
    from models.errors import ModelError
    from predictq.errors import PredictqError
    from predictq.store import open_store

    settings: Settings = ctx.obj
    store = open_store(settings.resolved_store_url)
    try:
        yield settings, store
    except (PredictqError, ModelError) as exc:
        raise click.ClickException(getattr(exc, "message", str(exc))) from None
    finally:
        store.close()


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.pass_context
def models(ctx: click.Context, as_json: bool) -> None:
    """Versions per model: serving, shadow, predictions, live accuracy from feedback."""
    if ctx.invoked_subcommand is not None:
        return
    from models.registry import names
    from predictq.lifecycle.report import model_detail

    with _store(ctx) as (settings, store):
        details = [model_detail(store, settings.resolved_model_dir, n) for n in names()]
    if as_json:
        click.echo(json.dumps(details, indent=2))
        return
    for detail in details:
        _print_detail(detail)


@models.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def show(ctx: click.Context, name: str, as_json: bool) -> None:
    """One model's versions, shadow comparison and decisions."""
    from predictq.lifecycle.report import model_detail

    with _store(ctx) as (settings, store):
        detail = model_detail(store, settings.resolved_model_dir, name)
    if as_json:
        click.echo(json.dumps(detail, indent=2))
    else:
        _print_detail(detail, history=True)


@models.command("promote")
@click.argument("name")
@click.argument("version")
@click.option("--force", is_flag=True, help="Promote even if it scores worse.")
@click.option("--tolerance", default=0.005, show_default=True, type=click.FloatRange(0, 1),
              help="How much lower an accuracy (a fraction) still counts as not worse.")
@click.option("--reason", default="", help="Written to the model's history.")
@click.pass_context
def promote(ctx: click.Context, name: str, version: str, force: bool, tolerance: float,
            reason: str) -> None:
    """Serve VERSION of NAME, if it is not worse than the serving one."""
    from predictq.lifecycle import decisions

    with _store(ctx) as (settings, store):
        switch = decisions.promote(store, settings.resolved_model_dir, name, version,
                                   force=force, tolerance=tolerance, reason=reason)
    click.echo(f"{name}: serving {switch.version} (was {switch.previous or 'CURRENT'}); "
               f"{switch.reason}")


@models.command("rollback")
@click.argument("name")
@click.option("--reason", default="", help="Written to the model's history.")
@click.pass_context
def rollback(ctx: click.Context, name: str, reason: str) -> None:
    """Serve again the version that served before the current one."""
    from predictq.lifecycle import decisions

    with _store(ctx) as (settings, store):
        switch = decisions.rollback(store, settings.resolved_model_dir, name, reason)
    click.echo(f"{name}: serving {switch.version} again (was {switch.previous})")


@models.command("shadow")
@click.argument("name")
@click.argument("version", required=False)
@click.option("--off", is_flag=True, help="Stop shadowing.")
@click.pass_context
def shadow(ctx: click.Context, name: str, version: str | None, off: bool) -> None:
    """Run VERSION beside the serving one on live inputs, without clients seeing it."""
    from predictq.lifecycle import decisions

    if off == (version is not None):
        raise click.UsageError("give a VERSION to shadow, or --off")
    with _store(ctx) as (settings, store):
        switch = decisions.shadow(store, settings.resolved_model_dir, name, version)
    click.echo(f"{name}: shadow {switch.version or 'off'} (was {switch.previous or 'none'})")


@click.command()
@click.argument("name")
@click.option("--version", "version", default=None, help="Default: the serving version.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def evaluate(ctx: click.Context, name: str, version: str | None, as_json: bool) -> None:
    """Score a version on every input with feedback and on its held-out set."""
    from predictq.lifecycle import decisions, evaluation

    with _store(ctx) as (settings, store):
        version = version or decisions.serving_version(store, settings.resolved_model_dir, name)
        loaded = decisions.load_verified(settings.resolved_model_dir, name, version)
        scores = evaluation.score(loaded, evaluation.truth_sets(loaded,
                                                                store.models.feedback(name)))
    rows = [s.to_public() for s in scores.values()]
    if as_json:
        click.echo(json.dumps({"model": name, "version": version, "sets": rows}, indent=2))
        return
    click.echo(f"{name} {version}")
    for row in rows:
        click.echo(f"  {row['set']:<10} {_pct(row['accuracy']):>8} {_ci(row['accuracy_ci95'])}"
                   f"  n={row['n']}")
    if not rows:
        click.echo("  nothing to score on: no feedback and no held-out set")


@click.command()
@click.argument("name")
@click.option("--promote", is_flag=True, help="Promote the new version if not worse.")
@click.pass_context
def learn(ctx: click.Context, name: str, promote: bool) -> None:
    """Update the serving version of NAME with its feedback; keep it as a candidate."""
    from predictq.lifecycle.learning import learn as learn_once

    with _store(ctx) as (settings, store):
        done = learn_once(store, settings.resolved_model_dir, name, promote=promote)
    click.echo(f"{name}: learned {done.version} from {done.base} and {done.labels} labels")
    for set_name, ours in done.comparison.candidate_scores.items():
        theirs = done.comparison.serving_scores[set_name]
        click.echo(f"  {set_name:<10} {_pct(ours.accuracy):>8} (was {_pct(theirs.accuracy)})"
                   f"  n={ours.n}")
    if done.comparison.reasons:
        click.echo("  worse: " + "; ".join(done.comparison.reasons) + " — not promoted")
    elif done.promoted:
        click.echo(f"  promoted: {name} now serves {done.version}")
    else:
        click.echo(f"  promote with: predictq models promote {name} {done.version}")


def promote_after_training(settings: Settings, name: str, version: str,
                           echo: Callable[[str], None]) -> None:
    """`predictq train --promote`: the same guarded promotion as `models promote`."""
    from predictq.lifecycle import decisions
    from predictq.store import open_store

    with open_store(settings.resolved_store_url) as store:
        if version == decisions.serving_version(store, settings.resolved_model_dir, name):
            echo(f"{name} {version} is already serving")
            return
        switch = decisions.promote(store, settings.resolved_model_dir, name, version)
    echo(f"{name}: serving {switch.version} (was {switch.previous or 'CURRENT'})")


def _print_detail(detail: dict[str, Any], history: bool = False) -> None:
    click.echo(f"{detail['name']}: serving {detail['serving'] or '-'}"
               f"{', shadow ' + detail['shadow'] if detail['shadow'] else ''}; "
               f"{detail['feedback']} feedback labels")
    click.echo(f"  {'version':<14}{'role':<9}{'predictions':>12}{'feedback':>10}"
               f"{'accuracy':>10}  {'95% CI':<17}top confusion")
    for v in detail["versions"]:
        role = "serving" if v["serving"] else "shadow" if v["shadow"] else ""
        top = v["confusions"][0] if v["confusions"] else None
        confusion = f"{top['predicted']}→{top['label']} ×{top['count']}" if top else ""
        click.echo(f"  {v['version']:<14}{role:<9}{v['predictions']:>12}{v['feedback']:>10}"
                   f"{_pct(v['accuracy']):>10}  {_ci(v['accuracy_ci95']):<17}{confusion}")
    for s in detail["shadow_comparison"]:
        click.echo(f"  shadow {s['version']}: {s['compared']} compared, agreement "
                   f"{_pct(s['agreement'])}; on {s['with_feedback']} with feedback: shadow "
                   f"{_pct(s['shadow_accuracy'])} vs served {_pct(s['served_accuracy'])}")
    if history:
        for line in detail["history"]:
            click.echo(f"  {line['at']} {line['action']:<9} {line['version'] or '-'} "
                       f"(was {line['previous'] or '-'}) {line['reason']}")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _ci(interval: list[float] | None) -> str:
    return "" if not interval else f"[{interval[0]:.1%}, {interval[1]:.1%}]"
