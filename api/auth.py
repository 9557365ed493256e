"""API keys on requests (`PREDICTQ_API_KEYS=on`): who is calling, and may they.

Two hooks around the rate limiter (api/ratelimit.py): one reads the key before it, so
the limiter counts per key, and one answers 401/403 after it, so requests with a wrong
key are counted (per address) too.

Every `/v1` endpoint names the scope it needs in `SCOPES`; a `/v1` endpoint missing
from it needs `admin` (closed by default; tests/api/test_auth.py fails on one). Paths
outside `/v1` stay open: the pages and static files (the data they show comes from
`/v1` with the key the page holds), `/healthz` and `/metrics` (left to network policy:
docs/SECURITY.md).
"""

from __future__ import annotations

from flask import Flask, Response, g, request

from api.errors import envelope
from predictq.apikeys import (
    ADMIN,
    FEEDBACK,
    READ,
    READ_ALL,
    SUBMIT,
    Authenticator,
    allows,
    may_read,
)
from predictq.errors import Forbidden, NotFound, Unauthorized
from predictq.jobs import Job
from predictq.services import Services
from predictq.store.keys import ApiKey

SCOPES: dict[str, str] = {
    "predictions.submit": SUBMIT,
    "predictions.submit_batch": SUBMIT,
    "predictions.get": READ,  # and only its own jobs without read-all (api/predictions.py)
    "waiting.list_predictions": READ,  # own jobs only, as predictions.get
    "waiting.events": READ,
    "lifecycle.give_feedback": FEEDBACK,
    "lifecycle.get_feedback": FEEDBACK,
    "lifecycle.model": READ,  # aggregates only; the form asks it for feedback labels
    "ops.models": READ,
    "ops.queue": READ_ALL,
    "monitor.monitor_sample": READ_ALL,
    "monitor.monitor_events": READ_ALL,
    "sensors.add_readings": SUBMIT,
    "sensors.list_sensors": READ_ALL,
    "sensors.get_sensor": READ_ALL,
    "sensors.get_readings": READ_ALL,
    "sensors.get_events": READ_ALL,
    "sensors.get_alerts": READ_ALL,
    "sensors.sensor_live": READ_ALL,
    "sensors.sensors_live": READ_ALL,
}

CHALLENGE = 'Bearer realm="predictq"'


def required_scope(endpoint: str | None, path: str) -> str | None:
    """The scope a request needs, or None for an open path."""
    if not (path == "/v1" or path.startswith("/v1/")):
        return None
    return SCOPES.get(endpoint or "", ADMIN)


def current_key() -> ApiKey | None:
    """The request's API key; None when keys are off (or the path is open)."""
    return g.get("api_key")


def presented_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("X-API-Key", "").strip() or None


def register_identify(app: Flask, services: Services) -> None:
    """Before the limiter: find the request's key, so the limiter counts per key. The
    pages learn whether to offer a key field (ui/static/apikey.js)."""
    keys_on = services.settings.keys_required
    app.context_processor(lambda: {"api_keys_on": keys_on})
    if not keys_on:
        return
    authenticator = Authenticator(services.store)

    @app.before_request
    def _identify() -> None:
        secret = presented_secret()
        g.api_key = authenticator.authenticate(secret) if secret else None


def register_authorize(app: Flask, services: Services) -> None:
    """After the limiter: 401 without a valid key, 403 without the scope."""
    if not services.settings.keys_required:
        return

    @app.before_request
    def _authorize() -> None:
        scope = required_scope(request.endpoint, request.path)
        if scope is None:
            return
        key = current_key()
        if key is None:
            if presented_secret():
                raise Unauthorized("the API key is not valid (unknown or revoked)")
            raise Unauthorized("an API key is required: send 'Authorization: Bearer "
                               "<key>' (keys are made with `predictq keys create`)")
        if not allows(key, scope):
            raise Forbidden(f"this API key lacks the {scope!r} scope")

    @app.errorhandler(Unauthorized)
    def _unauthorized(exc: Unauthorized) -> tuple[Response, int]:
        response, status = envelope(exc.status, exc.code, exc.message)
        response.headers["WWW-Authenticate"] = CHALLENGE
        return response, status


def owner_id() -> str | None:
    """The id recorded as a new job's owner: the request's key, None with keys off."""
    key = current_key()
    return None if key is None else key.key_id


def readable(job: Job) -> Job:
    """`job` if the request's key may read it; otherwise the same 404 as an unknown id,
    so a key learns nothing about other keys' jobs, not even that they exist."""
    if not may_read(current_key(), job):
        raise NotFound(f"no prediction with tracking_id {job.tracking_id!r}")
    return job


# -- the OpenAPI document (api/openapi.py) ----------------------------------------------

SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "An API key made by `predictq keys create` "
                              "(docs/SECURITY.md)."},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
               "description": "The same key, in a header of its own."},
}
UNAUTHORIZED = "No API key, or one unknown or revoked (`unauthorized`)."
FORBIDDEN = "The API key lacks this operation's scope (`forbidden`)."
RATE_LIMITED = "Over the rate limit of this key or address (`rate_limited`)."


def documented(endpoint: str, path: str, keys_on: bool, limited: bool,
               ) -> tuple[list[dict[str, list[str]]] | None, dict[int, str]]:
    """An operation's OpenAPI `security` (None: open) and the error statuses keys and
    rate limits add to it, as this deployment's settings have them."""
    errors: dict[int, str] = {}
    if limited and endpoint not in ("ops.healthz", "ops.prometheus"):
        errors[429] = RATE_LIMITED
    scope = required_scope(endpoint, path) if keys_on else None
    if scope is None:
        return None, errors
    errors.update({401: UNAUTHORIZED, 403: FORBIDDEN})
    return [{"bearer": [scope]}, {"apiKey": [scope]}], errors
