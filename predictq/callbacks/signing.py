"""Signing callbacks: `X-Predictq-Signature: sha256=<hex>`, the HMAC-SHA256 with the
deployment's `PREDICTQ_CALLBACK_SECRET` of `<X-Predictq-Timestamp> + "." + <body>`.

A receiver recomputes it over the raw body it received, compares in constant time,
and refuses a timestamp far from its clock (a replay); `verify` does all three.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE = "X-Predictq-Signature"
TIMESTAMP = "X-Predictq-Timestamp"
DELIVERY = "X-Predictq-Delivery"  # the attempt: 1, 2, ...
TRACKING_ID = "X-Predictq-Tracking-Id"  # the de-duplication key (also in the body)
RETRY_REASON = "X-Predictq-Retry-Reason"  # on attempts after the first: why again
TOLERANCE_S = 300


def signature(secret: str | bytes, timestamp: str, body: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str | bytes, timestamp: str, body: bytes, header: str, *,
           tolerance_s: float = TOLERANCE_S, now: float | None = None) -> bool:
    """True if `header` signs `timestamp` and `body`, and the timestamp is recent."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance_s and hmac.compare_digest(
        signature(secret, timestamp, body), header)
