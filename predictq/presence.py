"""Who is consuming, for the embedded transport.

RabbitMQ counts a queue's consumers itself and redelivers what a dead consumer held;
kombu's file-system transport does neither. So each worker on the embedded transport
touches a small file every few seconds (the API counts the fresh ones), and keeps the
messages it took in a folder of its own until it acks them; the messages of a process
that no longer exists go back to the queue. On AMQP these functions do nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from predictq.settings import Settings

BEAT_INTERVAL_S = 2.0
STALE_AFTER_S = 3 * BEAT_INTERVAL_S


def owner_id() -> str:
    """This process as a consumer: `<host>-<pid>`."""
    return f"{socket.gethostname()}-{os.getpid()}"


def claim_folder(queue_dir: Path) -> Path:
    """Where this process keeps the message files it took but has not acked."""
    folder = queue_dir / "claimed" / owner_id()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def recover_claimed(settings: Settings) -> int:
    """Move the unacked messages of dead consumers on this host back to the queue."""
    root = settings.queue_dir / "claimed"
    if not settings.uses_embedded_broker or not root.is_dir():
        return 0
    host = socket.gethostname()
    moved = 0
    for folder in root.iterdir():
        owner_host, _, pid = folder.name.rpartition("-")
        if owner_host != host or not pid.isdigit() or _alive(int(pid)):
            continue
        for path in folder.iterdir():
            try:
                os.rename(path, settings.queue_dir / "messages" / path.name)
                moved += 1
            except FileNotFoundError:
                continue  # another recoverer moved it first
        with contextlib.suppress(OSError):
            folder.rmdir()
    return moved


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def _folder(settings: Settings) -> Path:
    return settings.queue_dir / "consumers"


def beat(settings: Settings, worker_id: str, families: Iterable[str],
         unavailable: Mapping[str, str] | None = None) -> None:
    """`families`: the queues this worker consumes; `unavailable`: the models it cannot
    load (model -> why), which the API reports in /healthz and /v1/queue."""
    if not settings.uses_embedded_broker:
        return
    folder = _folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{worker_id}.tmp"
    tmp.write_text(json.dumps({"families": list(families), "pid": os.getpid(),
                               "unavailable": dict(unavailable or {})}))
    os.replace(tmp, folder / f"{worker_id}.json")


def leave(settings: Settings, worker_id: str) -> None:
    if settings.uses_embedded_broker:
        (_folder(settings) / f"{worker_id}.json").unlink(missing_ok=True)


def count(settings: Settings, family: str) -> int:
    """Workers on the embedded transport that beat recently and consume `family`."""
    return sum(1 for beat in reports(settings) if family in beat.get("families", ()))


def reports(settings: Settings) -> list[dict[str, Any]]:
    """What each worker on the embedded transport said in its latest fresh beat, with
    its id as `worker`. Empty on AMQP, where workers do not beat (RabbitMQ counts them)."""
    folder = _folder(settings)
    if not folder.is_dir():
        return []
    now = time.time()
    out = []
    for path in folder.glob("*.json"):
        try:
            if now - path.stat().st_mtime > STALE_AFTER_S:
                continue
            beat = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # a file being replaced or removed right now
        if isinstance(beat, dict):
            out.append({**beat, "worker": path.stem})
    return out
