"""`predictq api` under gunicorn: every process ready before a benchmark measures, and
keep-alive connections that outlive a client's pause between requests."""

from __future__ import annotations

import http.client
import json
import re
import time

import pytest

from loadtest import harness

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def api(tmp_path_factory, model_dir):
    tmp = tmp_path_factory.mktemp("api")
    port = harness.free_port()
    env = harness.child_env(tmp / "var", prefix="apiserver", model_dir=model_dir,
                            port=port, api_workers="3")
    with harness.Processes(tmp / "logs") as procs:
        procs.spawn("api", ["api"], env)
        url = f"http://127.0.0.1:{port}"
        harness.wait_api(url, procs, 3)
        yield url, port, procs, tmp / "logs" / "api.log"


def test_wait_api_returns_once_every_gunicorn_process_accepts(api):
    url, _, procs, log = api
    text = log.read_text()
    booted = set(re.findall(r"Booting worker with pid: (\d+)", text))
    ready = set(re.findall(r"Worker ready \(pid: (\d+)\)", text))
    assert len(ready) == 3 and ready == booted
    with pytest.raises(TimeoutError):
        harness.wait_api(url, procs, 4, timeout=2)


def test_a_keep_alive_connection_survives_a_pause_of_a_few_seconds(api):
    _, port, _, _ = api
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps({"model": "language", "input": {"text": "Guten Morgen zusammen"}})
    headers = {"Content-Type": "application/json"}
    try:
        conn.request("POST", "/v1/predictions", body, headers)
        first = conn.getresponse()
        first.read()
        sock = conn.sock
        time.sleep(3)  # past gunicorn's default keep-alive of 2 s
        conn.request("POST", "/v1/predictions", body, headers)
        second = conn.getresponse()
        second.read()
        same_connection = sock is not None and conn.sock is sock
    finally:
        conn.close()
    assert (first.status, second.status) == (202, 202)
    assert same_connection
