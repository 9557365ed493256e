"""`predictq up` as a user runs it: real processes, real HTTP, Ctrl-C at the end."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SENTENCES = {
    "sv": "Kan du hjälpa mig att hitta vägen till järnvägsstationen?",
    "ar": "هل يمكنك مساعدتي في العثور على الطريق إلى محطة القطار؟",
    "ja": "駅までの道を教えていただけませんか。",
    "es": "¿Puedes ayudarme a encontrar el camino a la estación de tren?",
    "fi": "Voitko auttaa minua löytämään tien rautatieasemalle?",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_up(tmp_path: Path, model_dir: Path, *, workers: int = 2,
             env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """`predictq up --workers N` as the README starts it, once /healthz answers; its
    URL. Its stderr goes to tmp_path/up.log, quoted if it does not start."""
    port = free_port()
    full = {**os.environ, "PREDICTQ_DATA_DIR": str(tmp_path / "var"),
            "PREDICTQ_MODEL_DIR": str(model_dir), "PREDICTQ_PORT": str(port), **(env or {})}
    with open(tmp_path / "up.log", "wb") as log:  # the child keeps its own copy
        up = subprocess.Popen([sys.executable, "-m", "predictq", "up", "--workers",
                               str(workers)], env=full, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2).close()
            return up, base
        except OSError:
            if up.poll() is not None or time.monotonic() > deadline:
                up.kill()
                raise AssertionError((tmp_path / "up.log").read_text()[-3000:]) from None
            time.sleep(0.2)


def http(method: str, url: str, body: dict | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.fixture(params=["embedded", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
def broker_env(request) -> dict[str, str]:
    if request.param == "embedded":
        return {}
    settings = request.getfixturevalue("amqp_settings")  # skips or fails without a broker
    return {"PREDICTQ_BROKER_URL": settings.broker_url,
            "PREDICTQ_QUEUE_PREFIX": settings.queue_prefix}


def test_up_serves_predictions_with_two_workers_and_stops_on_ctrl_c(tmp_path, model_dir,
                                                                    broker_env):
    port = free_port()
    env = {**os.environ, "PREDICTQ_DATA_DIR": str(tmp_path / "var"),
           "PREDICTQ_MODEL_DIR": str(model_dir), "PREDICTQ_PORT": str(port),
           "PREDICTQ_QUEUE_PREFIX": f"e2e{uuid.uuid4().hex[:8]}", **broker_env}
    log = open(tmp_path / "up.log", "w+")  # noqa: SIM115 - the child writes it until the end
    proc = subprocess.Popen([sys.executable, "-m", "predictq", "up", "--workers", "2"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            log.seek(0)
            if "predictq is up: " + base in log.read():
                break
            assert proc.poll() is None, (tmp_path / "up.log").read_text()
            time.sleep(0.2)
        else:
            pytest.fail("predictq up did not print its URL")
        # Both workers must be consuming before we measure how work is spread.
        deadline = time.monotonic() + 20
        while http("GET", base + "/v1/queue")[1]["queues"][0]["consumers"] < 2:
            assert time.monotonic() < deadline, "workers did not start consuming"
            time.sleep(0.2)

        started = time.monotonic()
        ids = {}
        for lang, text in SENTENCES.items():
            status, body = http("POST", base + "/v1/predictions",
                                {"model": "language", "input": {"text": text}})
            assert status == 202, body
            ids[lang] = body["tracking_id"]
        done = {}
        while len(done) < len(ids) and time.monotonic() - started < 10:
            for lang, tid in ids.items():
                if lang not in done:
                    status, job = http("GET", f"{base}/v1/predictions/{tid}")
                    if job["status"] in ("done", "failed"):
                        done[lang] = job
            time.sleep(0.02)
        assert {lang: job["result"]["label"] for lang, job in done.items()} == {
            lang: lang for lang in SENTENCES}

        # Spread: a burst of batch work must reach both workers.
        status, body = http("POST", base + "/v1/predictions/batch",
                            {"model": "language",
                             "inputs": [{"text": f"Dies ist Satz Nummer {i}."}
                                        for i in range(400)]})
        assert status == 202
        last = body["tracking_ids"][-1]
        deadline = time.monotonic() + 30
        while http("GET", f"{base}/v1/predictions/{last}")[1]["status"] != "done":
            assert time.monotonic() < deadline
            time.sleep(0.1)

        status, bad = http("POST", base + "/v1/predictions",
                           {"model": "language", "input": {"text": ""}})
        assert status == 422 and bad["error"]["code"] == "invalid_input"
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(30)
    log.close()
    output = (tmp_path / "up.log").read_text()
    assert code == 0, output
    assert "predictq stopped" in output
    per_worker = [int(n) for n in re.findall(r"stopped after (\d+) messages", output)]
    assert len(per_worker) == 2, output
    assert sum(per_worker) >= 405 and min(per_worker) > 0, per_worker
    with socket.socket() as s:  # nothing listens any more (TIME_WAIT leftovers are fine)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))


def test_up_stops_cleanly_on_sigterm(tmp_path, model_dir):
    port = free_port()
    env = {**os.environ, "PREDICTQ_DATA_DIR": str(tmp_path / "var"),
           "PREDICTQ_MODEL_DIR": str(model_dir), "PREDICTQ_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "predictq", "up", "--workers", "1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "predictq is up" in line:
            break
    assert proc.poll() is None, "".join(lines)
    proc.send_signal(signal.SIGTERM)
    rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, rest
    assert "stopped after" in rest and rest.rstrip().endswith("predictq stopped")
