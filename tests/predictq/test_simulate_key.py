"""`predictq simulate` sends PREDICTQ_API_KEY to an API that asks for keys."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from predictq.simulate import Client


def test_the_simulator_sends_its_key():
    seen: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(self.headers.get("Authorization"))
            self.rfile.read(int(self.headers["Content-Length"]))
            body = json.dumps({"accepted": 1}).encode()
            self.send_response(202)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        assert Client(url, "pqk_secret").post("/v1/sensors/s/readings", {})[0] == 202
        assert Client(url).post("/v1/sensors/s/readings", {})[0] == 202
    finally:
        server.shutdown()
    assert seen == ["Bearer pqk_secret", None]
