"""Reading a JSON request body, the same way for every endpoint, and holding it to the
schema its endpoint declares (api/declare.py, api/openapi.py)."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, request

from predictq.errors import InvalidInput, InvalidRequest, UnsupportedMediaType


def json_body() -> Any:
    if not request.is_json:
        raise UnsupportedMediaType(
            f"Content-Type must be application/json, got {request.mimetype or 'nothing'!r}"
        )
    data = request.get_data(cache=False)  # raises 413 above MAX_CONTENT_LENGTH
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        # The parser recurses once per nesting level; a body of a few hundred kilobytes
        # of brackets exhausts the stack. No input we accept nests more than a few levels.
        raise InvalidRequest("request body is nested too deeply to parse") from None
    _check(body)
    return body


def _check(body: Any) -> None:
    """Refuse a body its endpoint's schema refuses. The hand-written check explains the
    refusal (and keeps its status: 400, 404, 422, 503); should it find nothing wrong,
    the schema's own message is the answer."""
    validator = current_app.extensions["openapi"].validators.get(request.endpoint)
    if validator is None:
        return
    try:
        if validator.compiled.is_valid(body):
            return
        explain = validator.operation.explain
        if explain is not None:
            explain(body)
        error = next(validator.compiled.iter_errors(body))
    except UnicodeEncodeError:
        # A lone surrogate ("\ud800") parses in Python but is no Unicode text, and no
        # UTF-8 store can hold it (MongoDB's BSON encoder raised: a 500).
        raise InvalidRequest("request body has an unpaired UTF-16 surrogate in a string") \
            from None
    where = "/".join(str(part) for part in error.instance_path) or "body"
    raise InvalidInput(f"{where}: {error.message}"[:500])
