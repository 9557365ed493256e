"""POSTing one callback: signed, to the address its allow-list check resolved, over a
kept-alive connection of the calling thread (http.client; no new dependency)."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import time

from predictq.callbacks import signing
from predictq.callbacks.targets import AllowList, Refused, Target
from predictq.store.callbacks import Callback
from predictq.streams.webhook import Undeliverable

MAX_ANSWER_BYTES = 64 * 1024  # read (and ignore) at most this much of an answer


class _PinnedHTTPS(http.client.HTTPSConnection):
    """TLS to a checked address while verifying the certificate of the URL's host."""

    def __init__(self, address: str, port: int, server_hostname: str, timeout: float,
                 context: ssl.SSLContext) -> None:
        super().__init__(address, port, timeout=timeout, context=context)
        self.server_hostname = server_hostname
        self.tls_context = context

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self.tls_context.wrap_socket(sock, server_hostname=self.server_hostname)


def body_of(callback: Callback) -> bytes:
    """The job document, as `GET /v1/predictions/<id>` shows it."""
    assert callback.job is not None
    return json.dumps(callback.job.to_public(), separators=(",", ":")).encode()


def headers_for(secret: str, callback: Callback, body: bytes,
                now: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if now is None else now))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "predictq-callbacks",
        signing.TIMESTAMP: timestamp,
        signing.SIGNATURE: signing.signature(secret, timestamp, body),
        signing.DELIVERY: str(callback.attempts),
        signing.TRACKING_ID: callback.tracking_id,
    }
    if callback.attempts > 1:
        reason = callback.last_error or "the previous attempt's lease ran out unanswered"
        headers[signing.RETRY_REASON] = "".join(
            c if 32 <= ord(c) < 127 else "?" for c in reason)[:200]
    return headers


class Sender:
    """Callable by many threads at once; each keeps its own connections alive."""

    def __init__(self, allow: AllowList, secret: str, timeout_s: float) -> None:
        self.allow = allow
        self.secret = secret
        self.timeout_s = timeout_s
        self._local = threading.local()
        self._tls = ssl.create_default_context()

    def __call__(self, callback: Callback) -> int:
        """POST it; return the HTTP status. Undeliverable for a refused target or a job
        that no longer exists; OSError / HTTPException for a failed attempt."""
        if callback.job is None:
            raise Undeliverable("its job no longer exists (expired by retention)")
        try:
            target = self.allow.resolve(callback.url)
        except Refused as exc:
            raise Undeliverable(str(exc)) from None
        body = body_of(callback)
        headers = headers_for(self.secret, callback, body)
        headers["Host"] = target.host_header
        return self._post(target, body, headers)

    def _post(self, target: Target, body: bytes, headers: dict[str, str]) -> int:
        conns: dict[tuple, http.client.HTTPConnection] = self._local.__dict__.setdefault(
            "conns", {})
        key = (target.scheme, target.address, target.port, target.host)
        reused = key in conns
        conn = conns.pop(key, None) or self._connect(target)
        try:
            conn.request("POST", target.path, body, headers)
            response = conn.getresponse()
            response.read(MAX_ANSWER_BYTES)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            conn.close()
            if not reused:
                raise
            # A kept-alive connection the receiver had closed: once more on a new one.
            conn = self._connect(target)
            try:
                conn.request("POST", target.path, body, headers)
                response = conn.getresponse()
                response.read(MAX_ANSWER_BYTES)
            except BaseException:
                conn.close()
                raise
        except BaseException:
            conn.close()
            raise
        if response.isclosed() and not response.will_close:
            conns[key] = conn
        else:
            conn.close()
        return response.status

    def _connect(self, target: Target) -> http.client.HTTPConnection:
        if target.scheme == "https":
            return _PinnedHTTPS(target.address, target.port, target.host, self.timeout_s,
                                self._tls)
        return http.client.HTTPConnection(target.address, target.port,
                                          timeout=self.timeout_s)
