"""Rate limits per API key (per client address with keys off), shared by every API
process through the storage predictq.ratelimits picks; 429 `rate_limited` with
Retry-After above them.

One application-wide limit (flask-limiter's application limits, fixed window): every
`/v1` request and page counts against the same budget; static files, `/healthz` and
`/metrics` do not count. Response headers stay off: they would cost a second storage
read per request. A limiter storage that fails lets requests through (logged): the
limit is a guard, and intake must not stop with it.
"""

from __future__ import annotations

import math
import time

from flask import Flask, Response, g, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from werkzeug.middleware.proxy_fix import ProxyFix

import predictq.store.sqlite_limits  # noqa: F401  (registers the predictq+sqlite scheme)
from api.errors import envelope
from predictq import ratelimits
from predictq.settings import Settings

UNCOUNTED = {"static", "ops.healthz", "ops.prometheus"}


def identity() -> str:
    """What a request is counted against: its API key, else its address."""
    key = g.get("api_key")
    if key is not None:
        return f"key:{key.key_id}"
    return f"addr:{request.remote_addr or 'unknown'}"


def register(app: Flask, settings: Settings) -> Limiter | None:
    if settings.trusted_proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)  # type: ignore[method-assign]
    limits = ratelimits.limit_strings(settings)
    if not limits:
        return None
    uri, options = ratelimits.storage(settings)
    limiter = Limiter(
        identity,
        app=app,
        application_limits=[";".join(limits)],
        strategy="fixed-window",
        storage_uri=uri,
        storage_options=options,
        key_prefix=settings.queue_prefix,
        headers_enabled=False,
        swallow_errors=True,
    )

    @limiter.request_filter
    def _uncounted() -> bool:
        return request.endpoint in UNCOUNTED

    @app.errorhandler(RateLimitExceeded)
    def _limited(exc: RateLimitExceeded) -> tuple[Response, int]:
        retry_after = 1
        current = limiter.current_limit
        if current is not None:
            reset = current.window[0]  # when the window ends (reset_at rounds up a second)
            retry_after = max(1, math.ceil(reset - time.time()))
        response, status = envelope(
            429, "rate_limited",
            f"rate limit of {exc.limit.limit} exceeded; retry in {retry_after} s")
        response.headers["Retry-After"] = str(retry_after)
        return response, status

    return limiter
