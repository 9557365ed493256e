"""A completion-callback receiver for tests and loadtest/callback_bench.py: verifies each
POST's signature, records it, and answers with the status its policy gives.

In-process (`Receiver`, threads) for the tests; as its own process for the benchmark,
so it can be killed and restarted on the same port:

    python -m loadtest.callback_receiver --port 8123 --secret S --out arrivals.jsonl

Each arrival is one JSON line written (unbuffered) before the answer is sent, so one
recorded but unanswered when the process dies is what the sender retries: a duplicate
with a retry reason.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from predictq.callbacks import signing


@dataclass
class Arrival:
    tracking_id: str
    delivery: int
    retry_reason: str | None
    signature_ok: bool
    at: float  # receiver's clock, POSIX seconds
    status: int  # what the receiver answered
    body: dict[str, Any]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Receiver:
    """Records every POST; `answer(n)` gives the status of the n-th (1-based)."""

    def __init__(self, secret: str, port: int = 0, answer: Callable[[int], int] | None = None,
                 out: str | None = None, keep_bodies: bool = True) -> None:
        self.secret = secret
        self.answer = answer or (lambda n: 200)
        self.arrivals: list[Arrival] = []
        self.lock = threading.Lock()
        self.out_fd = (os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                       if out else None)
        self.keep_bodies = keep_bodies
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver.record(self.headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def record(self, headers: Any, body: bytes) -> int:
        ok = signing.verify(self.secret, headers.get(signing.TIMESTAMP, ""), body,
                            headers.get(signing.SIGNATURE, ""))
        doc = json.loads(body) if body else {}
        with self.lock:
            status = self.answer(len(self.arrivals) + 1)
            arrival = Arrival(headers.get(signing.TRACKING_ID, ""),
                              int(headers.get(signing.DELIVERY, 0)),
                              headers.get(signing.RETRY_REASON), ok, time.time(), status,
                              doc if self.keep_bodies else {
                                  "updated_at": doc.get("updated_at"),
                                  "tracking_id": doc.get("tracking_id")})
            self.arrivals.append(arrival)
            if self.out_fd is not None:
                os.write(self.out_fd, (json.dumps(asdict(arrival)) + "\n").encode())
        return status

    def start(self) -> Receiver:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    receiver = Receiver(args.secret, args.port, out=args.out, keep_bodies=False)
    print(f"listening on {receiver.port}", flush=True)
    receiver.server.serve_forever()


if __name__ == "__main__":
    main()
