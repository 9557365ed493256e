"""API keys on (`PREDICTQ_API_KEYS=on`): 401 without a valid key, 403 without the
scope, and a key reads only the jobs it submitted unless it has read-all."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from api.app import create_app
from api.auth import SCOPES
from predictq import apikeys
from predictq.jobs import Job
from predictq.services import Services

TEXT = {"model": "language", "input": {"text": "Jag tycker om att läsa böcker."}}


@pytest.fixture
def keyed(settings) -> Iterator[Services]:
    services = Services.build(settings.replace(api_keys="on", rate_limit="off"))
    yield services
    services.close()


@pytest.fixture
def client(keyed):
    return create_app(services=keyed).test_client()


def key(services: Services, *scopes: str) -> dict[str, str]:
    _, secret = apikeys.issue(services.store, scopes)
    return {"Authorization": f"Bearer {secret}"}


def submit(client, headers, body=TEXT, **extra):
    return client.post("/v1/predictions", data=json.dumps(body),
                       content_type="application/json", headers={**headers, **extra})


def test_no_key_is_401_with_a_bearer_challenge(client, keyed):
    for response in (submit(client, {}), client.get("/v1/models"),
                     client.get("/v1/predictions/whatever")):
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert sum(keyed.store.count_by_status().values()) == 0  # nothing stored


def test_a_wrong_or_revoked_key_is_401(client, keyed, monkeypatch):
    monkeypatch.setattr(apikeys, "CACHE_S", 0.0)
    client = create_app(services=keyed).test_client()  # an authenticator without a cache
    for bad in ("Bearer pqk_" + "x" * 43, "Bearer nonsense", "Basic dXNlcjpwYXNz"):
        response = client.get("/v1/models", headers={"Authorization": bad})
        assert response.status_code == 401, bad
    made, secret = apikeys.issue(keyed.store, ["read"])
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/v1/models", headers=headers).status_code == 200
    keyed.store.keys.revoke(made.key_id, 1.0)
    response = client.get("/v1/models", headers=headers)
    assert response.status_code == 401
    assert "not valid" in response.get_json()["error"]["message"]


def test_x_api_key_works_too(client, keyed):
    _, secret = apikeys.issue(keyed.store, ["read"])
    assert client.get("/v1/models", headers={"X-API-Key": secret}).status_code == 200


def test_a_key_without_the_scope_is_403(client, keyed):
    reader = key(keyed, "read")
    response = submit(client, reader)
    assert response.status_code == 403
    assert response.get_json()["error"] == {
        "code": "forbidden", "message": "this API key lacks the 'submit' scope"}
    assert client.get("/v1/queue", headers=reader).status_code == 403  # read-all's
    assert client.post("/v1/predictions/x/feedback", data="{}", headers=reader,
                       content_type="application/json").status_code == 403
    submitter = key(keyed, "submit")
    assert submit(client, submitter).status_code == 202
    assert client.get("/v1/models", headers=submitter).status_code == 403


def test_a_key_reads_its_own_jobs_only_unless_it_reads_all(client, keyed):
    alice, bob = key(keyed, "submit", "read"), key(keyed, "submit", "read")
    reader_all, admin = key(keyed, "read-all"), key(keyed, "admin")
    tid = submit(client, alice).get_json()["tracking_id"]
    assert client.get(f"/v1/predictions/{tid}", headers=alice).status_code == 200
    hidden = client.get(f"/v1/predictions/{tid}", headers=bob)
    unknown = client.get("/v1/predictions/no-such-id", headers=bob)
    assert hidden.status_code == unknown.status_code == 404  # existence is not revealed
    assert hidden.get_json()["error"]["code"] == unknown.get_json()["error"]["code"]
    for headers in (reader_all, admin):
        assert client.get(f"/v1/predictions/{tid}", headers=headers).get_json()[
            "tracking_id"] == tid
    # A batch is owned like a single submission.
    batch = client.post("/v1/predictions/batch", headers=bob, content_type="application/json",
                        data=json.dumps({"model": "language", "inputs": [{"text": "hej"}]}))
    (bob_tid,) = batch.get_json()["tracking_ids"]
    assert client.get(f"/v1/predictions/{bob_tid}", headers=alice).status_code == 404
    assert client.get(f"/v1/predictions/{bob_tid}", headers=bob).status_code == 200


def test_jobs_from_before_keys_are_read_with_read_all_only(client, keyed):
    old = Job(model="language", input={"text": "x"})
    keyed.store.create([old])
    path = f"/v1/predictions/{old.tracking_id}"
    assert client.get(path, headers=key(keyed, "read", "submit")).status_code == 404
    assert client.get(path, headers=key(keyed, "read-all")).status_code == 200


def test_an_idempotency_key_belongs_to_one_api_key(client, keyed):
    alice, bob = key(keyed, "submit", "read"), key(keyed, "submit", "read")
    first = submit(client, alice, **{"Idempotency-Key": "order-1"}).get_json()
    again = submit(client, alice, **{"Idempotency-Key": "order-1"}).get_json()
    other = submit(client, bob, **{"Idempotency-Key": "order-1"}).get_json()
    assert first["tracking_id"] == again["tracking_id"] != other["tracking_id"]
    # Bob's different body under the same key is no conflict with Alice's.
    body = {"model": "language", "input": {"text": "Ich lese gern Bücher."}}
    assert submit(client, bob, body, **{"Idempotency-Key": "order-2"}).status_code == 202
    assert submit(client, alice, **{"Idempotency-Key": "order-2"}).status_code == 202


def test_pages_health_and_metrics_stay_open(client):
    for path in ("/", "/models", "/sensors", "/dashboard", "/static/app.css", "/healthz",
                 "/metrics"):
        assert client.get(path).status_code in (200, 503), path  # 503: healthz, no broker


def test_every_v1_endpoint_names_its_scope(client):
    endpoints = {rule.endpoint for rule in client.application.url_map.iter_rules()
                 if rule.rule.startswith("/v1/")}
    missing = sorted(endpoints - set(SCOPES))
    assert not missing, f"add these to api.auth.SCOPES (else they need admin): {missing}"
    assert set(SCOPES.values()) <= set(apikeys.SCOPES)


def test_an_unlisted_v1_path_needs_admin(client, keyed):
    # Unknown under /v1: a 404 to admin, but first a 403 to anyone less.
    assert client.get("/v1/nothing-here", headers=key(keyed, "read-all")).status_code == 403
    assert client.get("/v1/nothing-here", headers=key(keyed, "admin")).status_code == 404


def test_keys_off_needs_no_key_and_ignores_one(services):
    client = create_app(services=services).test_client()
    tid = submit(client, {}).get_json()["tracking_id"]
    assert client.get(f"/v1/predictions/{tid}").status_code == 200
    assert client.get(f"/v1/predictions/{tid}",
                      headers={"Authorization": "Bearer pqk_junk"}).status_code == 200
    assert services.store.get(tid).owner is None


def test_the_openapi_document_states_keys_scopes_and_limits(client, services):
    from openapi_spec_validator import validate

    doc = client.get("/openapi.json").get_json()  # keys on, rate limit off
    validate(doc)
    assert set(doc["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            if not path.startswith("/v1/"):
                assert "security" not in op and "401" not in op["responses"], path
                continue
            (scope,) = op["security"][0]["bearer"]
            assert scope == SCOPES[op["operationId"].replace("_", ".", 1)], (method, path)
            assert {"401", "403"} <= set(op["responses"]) and "429" not in op["responses"]
    # Keys off, the default limit on: no security, a 429 with Retry-After.
    doc = create_app(services=services).test_client().get("/openapi.json").get_json()
    validate(doc)
    assert "securitySchemes" not in doc["components"]
    submit_op = doc["paths"]["/v1/predictions"]["post"]
    assert "security" not in submit_op and "401" not in submit_op["responses"]
    assert "Retry-After" in submit_op["responses"]["429"]["headers"]
    assert "429" not in doc["paths"]["/healthz"]["get"]["responses"]
