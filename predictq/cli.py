"""The `predictq` command: up, api, worker, train, predict, status, queues, keys."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from predictq.cli_keys import keys
from predictq.cli_models import evaluate, learn, models
from predictq.cli_queues import queues
from predictq.settings import Settings


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj


@click.group()
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
@click.pass_context
def main(ctx: click.Context, log_level: str) -> None:
    """predictq: an asynchronous prediction service."""
    logging.basicConfig(level=log_level,
                        format="%(asctime)s %(levelname)s %(name)s[%(process)d] %(message)s")
    ctx.obj = Settings.from_env()


@main.command()
@click.option("--workers", "-w", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes to start.")
@click.option("--port", type=int, default=None, help="API port (default PREDICTQ_PORT).")
@click.option("--host", default=None, help="API interface (default PREDICTQ_HOST).")
@click.pass_context
def up(ctx: click.Context, workers: int, port: int | None, host: str | None) -> None:
    """Train missing models, start the API and N workers; Ctrl-C stops everything."""
    from predictq.supervisor import Supervisor

    settings = _settings(ctx).replace(**{k: v for k, v in
                                         {"port": port, "host": host}.items() if v})
    _train_missing(settings)
    sys.exit(Supervisor(settings, workers).run())


@main.command()
@click.pass_context
def api(ctx: click.Context) -> None:
    """Serve the REST API and UI with gunicorn."""
    from api.server import serve

    serve(_settings(ctx))


@main.command()
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=None,
              help="Largest micro-batch (1 = one by one). Default PREDICTQ_BATCH_SIZE.")
@click.option("--batch-wait-ms", type=click.IntRange(0, 60_000), default=None,
              help="Wait for a batch to fill after its first message. "
                   "Default PREDICTQ_BATCH_WAIT_MS.")
@click.option("--family", "families", multiple=True,
              help="Queue family to consume (repeatable): text, sensor, stream; "
                   "default all.")
@click.pass_context
def worker(ctx: click.Context, batch_size: int | None, batch_wait_ms: int | None,
           families: tuple[str, ...]) -> None:
    """Consume the queues, write predictions, apply sensor streams, deliver alerts."""
    import threading

    from predictq.messaging import FAMILIES, STREAM_FAMILY
    from worker.factory import (
        create_alert_deliverer,
        create_callback_deliverer,
        create_service_alert_deliverer,
        create_stream_consumer,
        create_worker,
    )

    settings = _settings(ctx)
    unknown = set(families) - {*FAMILIES, STREAM_FAMILY}
    if unknown:
        raise click.BadParameter(f"unknown famil{'ies' if len(unknown) > 1 else 'y'} "
                                 f"{', '.join(sorted(unknown))}", param_hint="--family")
    job_families = [f for f in families if f != STREAM_FAMILY] if families else None
    w = create_worker(settings, batch_size=batch_size, batch_wait_ms=batch_wait_ms,
                      families=job_families)
    w.install_signal_handlers()
    threads = []
    if not families or STREAM_FAMILY in families:
        streams = create_stream_consumer(settings, batch_size=batch_size,
                                         batch_wait_ms=batch_wait_ms)
        streams.stop_event = w.stop_event  # one signal stops both
        threads.append(threading.Thread(target=streams.run, name="predictq-streams"))
    for deliverer, name in ((create_alert_deliverer(settings), "predictq-alerts"),
                            (create_service_alert_deliverer(settings), "predictq-ops-alerts"),
                            (create_callback_deliverer(settings), "predictq-callbacks")):
        if deliverer is not None:
            deliverer.stop_event = w.stop_event
            threads.append(threading.Thread(target=deliverer.run, name=name))
    for thread in threads:
        thread.start()
    if families and not job_families:  # streams only: the job consumer stays off
        if w.sweeper is not None:
            w.sweeper.start()
        w.stop_event.wait()
        if w.sweeper is not None:
            w.sweeper.stop_event.set()
    else:
        w.run()
    for thread in threads:
        thread.join()


@main.command()
@click.argument("model", required=False)
@click.option("--promote", is_flag=True,
              help="Serve the new version if it is not worse than the serving one "
                   "(otherwise it waits for `predictq models promote`).")
@click.pass_context
def train(ctx: click.Context, model: str | None, promote: bool) -> None:
    """Build model artifacts (all models, or MODEL). A model's first version serves at
    once; a later one only when promoted."""
    from models.registry import names
    from predictq.cli_models import promote_after_training
    from predictq.errors import PredictqError

    settings = _settings(ctx)
    for name in [model] if model else names():
        version = _train_one(settings, name)
        if promote:
            try:
                promote_after_training(settings, name, version, click.echo)
            except PredictqError as exc:
                raise click.ClickException(exc.message) from None


@main.command()
@click.option("--model", "-m", required=True, help="Model name, e.g. language.")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(1))
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.pass_context
def predict(ctx: click.Context, model: str, batch_size: int, file) -> None:
    """Score FILE (JSON lines, `-` for stdin) offline; write one JSON result per line."""
    from predictq.offline import score_lines

    try:
        for result in score_lines(_settings(ctx), model, file, batch_size):
            click.echo(json.dumps(result, ensure_ascii=False))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Queue depth, consumers, rates and oldest waiting age."""
    from predictq import monitoring
    from predictq.errors import PredictqError
    from predictq.services import Services

    services = Services.build(_settings(ctx))
    try:
        report = monitoring.queue_report(services)
        dead = monitoring.dead_letter_report(services)
        streams = monitoring.stream_report(services)
        counts = {s.value: n for s, n in services.store.count_by_status().items()}
        alerts = [a.to_public() for a in services.store.service_alerts.active()
                  if a.state == "firing"]
    except PredictqError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        services.close()
    if as_json:
        click.echo(json.dumps({"queues": report, "dead_letter": dead, "streams": streams,
                               "jobs": counts, "alerts": alerts}, indent=2))
        return
    header = f"{'queue':<22}{'depth':>8}{'consumers':>11}{'in/s':>9}{'out/s':>9}{'oldest':>10}"
    click.echo(header)
    for q in report:
        oldest = "-" if q["oldest_age_seconds"] is None else f"{q['oldest_age_seconds']:.1f}s"
        click.echo(f"{q['queue']:<22}{q['depth']:>8}{q['consumers']:>11}"
                   f"{q['publish_rate']:>9.2f}{q['ack_rate']:>9.2f}{oldest:>10}")
    for q in report:
        for name, error in q.get("unavailable_models", {}).items():
            click.echo(f"model {name} unavailable: {error}")
    click.echo(f"dead letters: {dead['depth']} in {dead['queue']}")
    click.echo(f"streams: {streams['sensors']} sensors, {streams['depth']} wake-ups waiting "
               f"in {len(streams['partitions'])} partitions, {streams['consumers']} stream "
               f"worker(s), {streams['pending_batches']} batches not yet applied")
    click.echo("jobs: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    click.echo(f"alerts: {len(alerts)} firing" + "".join(
        f"\n  FIRING {a['rule']} {a['subject']}: {a['message']}" for a in alerts))


@main.command()
@click.option("--sensors", "-n", "count", default=20, show_default=True,
              type=click.IntRange(1, 10_000), help="Sensors to simulate.")
@click.option("--rate", default=10.0, show_default=True, type=click.FloatRange(0.01, 1000),
              help="Readings per second per sensor.")
@click.option("--backfill", default=1500, show_default=True, type=click.IntRange(0),
              help="Readings of history each sensor uploads first (warms the detectors).")
@click.option("--duration", default=0.0, show_default=True, type=click.FloatRange(0),
              help="Seconds of live replay; 0 runs until Ctrl-C.")
@click.option("--url", default=None,
              help="The API (default http://PREDICTQ_HOST:PREDICTQ_PORT).")
@click.pass_context
def simulate(ctx: click.Context, count: int, rate: float, backfill: int, duration: float,
             url: str | None) -> None:
    """Replay real recordings into a running predictq as live sensors."""
    from predictq import simulate as sim

    settings = _settings(ctx)
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    url = url or f"http://{host}:{settings.port}"
    sensors = sim.build_sensors(count, rate, backfill)
    click.echo(f"simulating {count} sensors at {rate:g} readings/s each into {url} "
               f"({', '.join(s.sensor_id for s in sensors[:4])}, ...); Ctrl-C stops")
    try:
        totals = sim.run(url, sensors, rate, backfill, duration, echo=click.echo)
    except KeyboardInterrupt:
        return
    except OSError as exc:
        raise click.ClickException(f"cannot reach predictq at {url}: {exc}") from None
    click.echo(f"done: {totals['accepted']} readings accepted, {totals['duplicates']} "
               f"duplicates, {totals['refused']} requests refused")


def _train_missing(settings: Settings) -> None:
    from models.artifacts import available
    from models.registry import names

    for name in names():
        if not available(settings.resolved_model_dir, name):
            click.echo(f"model {name!r} is not trained yet; training it now")
            _train_one(settings, name)


def _train_one(settings: Settings, name: str) -> str:
    from tqdm import tqdm

    from models.errors import UnknownModelName
    from models.registry import get_spec

    try:
        spec = get_spec(name)
    except UnknownModelName as exc:
        raise click.ClickException(str(exc)) from None
    with tqdm(desc=name, unit="step", leave=True) as bar:
        def progress(stage: str, done: int, total: int) -> None:
            bar.set_description(f"{name}: {stage}")
            bar.total = total
            bar.n = done
            bar.refresh()

        manifest = spec.train(Path(settings.resolved_model_dir), progress)
    click.echo(f"trained {name} {manifest.version} → {settings.resolved_model_dir / name}")
    return manifest.version



for _command in (models, evaluate, learn, queues, keys):
    main.add_command(_command)
