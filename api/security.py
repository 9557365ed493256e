"""Security headers on every response.

The UI is served from the API's own origin and needs nothing else: its scripts are ES
modules from /static (no inline script anywhere), its styles a stylesheet, its data
fetched from /v1. So the Content-Security-Policy allows only 'self' — an injected
`<script>` or inline handler would not run even if user text ever became markup (it
does not: the pages insert text with textContent). No sniffing, no framing, no referrer.
"""

from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def register(app: Flask) -> None:
    @app.after_request
    def _secure(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
