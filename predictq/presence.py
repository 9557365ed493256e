"""Who is consuming, for the embedded transport.

RabbitMQ counts a queue's consumers itself; kombu's file-system transport cannot, so
each worker on the embedded transport touches a small file every few seconds and the
API counts the fresh ones. On AMQP these functions do nothing.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path

from predictq.settings import Settings

BEAT_INTERVAL_S = 2.0
STALE_AFTER_S = 3 * BEAT_INTERVAL_S


def _folder(settings: Settings) -> Path:
    return settings.queue_dir / "consumers"


def beat(settings: Settings, worker_id: str, families: Iterable[str]) -> None:
    if not settings.uses_embedded_broker:
        return
    folder = _folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{worker_id}.tmp"
    tmp.write_text(json.dumps({"families": list(families), "pid": os.getpid()}))
    os.replace(tmp, folder / f"{worker_id}.json")


def leave(settings: Settings, worker_id: str) -> None:
    if settings.uses_embedded_broker:
        (_folder(settings) / f"{worker_id}.json").unlink(missing_ok=True)


def count(settings: Settings, family: str) -> int:
    """Workers on the embedded transport that beat recently and consume `family`."""
    folder = _folder(settings)
    if not folder.is_dir():
        return 0
    now = time.time()
    n = 0
    for path in folder.glob("*.json"):
        try:
            if now - path.stat().st_mtime > STALE_AFTER_S:
                continue
            if family in json.loads(path.read_text())["families"]:
                n += 1
        except (OSError, ValueError, KeyError):
            continue  # a file being replaced or removed right now
    return n
