"""Server-sent events as the API's streams write them: `event:` and one `data:` line
of compact JSON per event, no keep-alive comments (a stream lasts at most
PREDICTQ_WAIT_MAX_S, and OpenAPI tools read a comment as an empty event)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from flask import Response


def event(name: str, data: object) -> str:
    return event_text(name, compact(data))


def event_text(name: str, data: str) -> str:
    """An event whose data is already JSON text (serialized once for many streams)."""
    return f"event: {name}\ndata: {data}\n\n"


def compact(data: object) -> str:
    return json.dumps(data, separators=(",", ":"))


def response(events: Iterable[str]) -> Response:
    return Response(events, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
