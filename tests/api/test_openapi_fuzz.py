"""Property-based fuzzing of every operation in /openapi.json against a running
`predictq api` (gunicorn, the embedded defaults, all three models trained, so that a
5xx is a defect, never a model merely missing).

Schemathesis (its CLI, `st run`; its pytest plugin does not run under pytest 9) reads
the served document and sends valid and invalid requests to every operation, in its
examples, coverage and fuzzing phases. A response fails if it is a 5xx, has a status,
content type, header or body the document does not give, or accepts a request the
document says is invalid. A fixed seed and a bounded example count keep CI near a
minute; the deep fuzz is the same test with more examples (docs/API.md):

    PREDICTQ_FUZZ_EXAMPLES=1000 pytest tests/api/test_openapi_fuzz.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from loadtest import harness
from tests.models.conftest import trained_sensor  # noqa: F401  (a session fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures("trained_sensor")]

EXAMPLES = int(os.environ.get("PREDICTQ_FUZZ_EXAMPLES", "30"))
SEED = int(os.environ.get("PREDICTQ_FUZZ_SEED", "13"))
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance",
          "negative_data_rejection")


CONFIG = Path(__file__).with_name("schemathesis.toml")


def schemathesis_command(url: str, examples: int = EXAMPLES, seed: int = SEED,
                         config: Path = CONFIG) -> list[str]:
    st = Path(sys.executable).with_name("st")
    return [str(st), "--config-file", str(config), "run", f"{url}/openapi.json",
            "--checks", ",".join(CHECKS),
            "--mode", "all", "--phases", "examples,coverage,fuzzing",
            "--max-examples", str(examples), "--seed", str(seed),
            "--generation-database", ":memory:", "--request-timeout", "30",
            "--continue-on-failure", "--no-color"]


@pytest.fixture(scope="module")
def live_api(tmp_path_factory, model_dir):
    tmp = tmp_path_factory.mktemp("fuzz")
    port = harness.free_port()
    # A fuzzed `?wait=` may hold a request for PREDICTQ_WAIT_MAX_S on a job not yet
    # final; 2 s keeps that well inside the fuzzer's request timeout.
    env = harness.child_env(tmp / "var", prefix="fuzz", model_dir=model_dir, port=port,
                            api_workers="1", wait_max_s="2")
    with harness.Processes(tmp / "logs") as procs:
        procs.spawn("api", ["api"], env)
        procs.spawn("worker", ["worker"], env)
        url = f"http://127.0.0.1:{port}"
        harness.wait_api(url, procs, 1)
        yield url, tmp, tmp / "logs" / "api.log"


def done_job(url: str) -> str:
    """A prediction that is done, so that polling and feedback reach past their 404."""
    request = urllib.request.Request(
        f"{url}/v1/predictions", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"model": "language", "input": {"text": "Guten Morgen"}}).encode())
    with urllib.request.urlopen(request) as r:
        tracking_id = json.load(r)["tracking_id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{url}/v1/predictions/{tracking_id}") as r:
            if json.load(r)["status"] == "done":
                return tracking_id
        time.sleep(0.2)
    raise AssertionError(f"{tracking_id} was not done within 60 s")


def test_every_operation_answers_as_documented(live_api):
    url, tmp, log = live_api
    # Every generated {tracking_id} is this done job's: GET and feedback answer 200,
    # 409 and 422 rather than only 404.
    config = tmp / "schemathesis.toml"
    config.write_text(f'{CONFIG.read_text()}\n[parameters]\n'
                      f'"path.tracking_id" = "{done_job(url)}"\n')
    started = time.monotonic()
    with urllib.request.urlopen(f"{url}/openapi.json") as r:
        operations = sum(len(item) for item in json.load(r)["paths"].values())
    run = subprocess.run(schemathesis_command(url, config=config), capture_output=True, text=True,
                         timeout=1800)
    took = time.monotonic() - started
    report = run.stdout[-20_000:] + run.stderr[-5_000:]
    assert run.returncode == 0, f"{report}\n--- api log ---\n{log.read_text()[-5_000:]}"
    n = operations
    assert f"{n} selected / {n} total" in run.stdout and f"Tested: {n}" in run.stdout, report
    print(f"schemathesis: {took:.0f} s\n{run.stdout[-1_500:]}")
