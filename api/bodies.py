"""Reading a JSON request body, the same way for every endpoint."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from predictq.errors import InvalidRequest, UnsupportedMediaType


def json_body() -> Any:
    if not request.is_json:
        raise UnsupportedMediaType(
            f"Content-Type must be application/json, got {request.mimetype or 'nothing'!r}"
        )
    data = request.get_data(cache=False)  # raises 413 above MAX_CONTENT_LENGTH
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        # The parser recurses once per nesting level; a body of a few hundred kilobytes
        # of brackets exhausts the stack. No input we accept nests more than a few levels.
        raise InvalidRequest("request body is nested too deeply to parse") from None
