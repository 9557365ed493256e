"""Property-based fuzzing of every operation in /openapi.json against a running
`predictq api` (gunicorn, the embedded defaults, all three models trained, so that a
5xx is a defect, never a model merely missing).

Schemathesis generates valid and invalid requests from the document; every response
must be no 5xx beyond the documented ones, a documented status, the documented content
type and a body that fits the documented schema; requests the schema refuses must be
refused. A fixed seed and a bounded example count keep CI at about a minute; the deep
fuzz is the same test with more examples (docs/API.md):

    PREDICTQ_FUZZ_EXAMPLES=1000 pytest tests/api/test_openapi_fuzz.py
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, seed, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from loadtest import harness
from tests.models.conftest import trained_sensor  # noqa: F401  (a session fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures("trained_sensor")]

EXAMPLES = int(os.environ.get("PREDICTQ_FUZZ_EXAMPLES", "30"))
SEED = int(os.environ.get("PREDICTQ_FUZZ_SEED", "13"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance,
          negative_data_rejection]


@pytest.fixture(scope="module")
def live_api(tmp_path_factory, model_dir):
    tmp = tmp_path_factory.mktemp("fuzz")
    port = harness.free_port()
    env = harness.child_env(tmp / "var", prefix="fuzz", model_dir=model_dir, port=port,
                            api_workers="1")
    with harness.Processes(tmp / "logs") as procs:
        procs.spawn("api", ["api"], env)
        url = f"http://127.0.0.1:{port}"
        harness.wait_api(url, procs, 1)
        yield url


@pytest.fixture(scope="module")
def api_schema(live_api):
    schema = schemathesis.openapi.from_url(f"{live_api}/openapi.json")
    schema.config.generation.update(modes=[GenerationMode.POSITIVE,
                                           GenerationMode.NEGATIVE])
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@seed(SEED)
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case):
    case.call_and_validate(checks=CHECKS, timeout=30)
