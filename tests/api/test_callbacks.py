"""`callback_url` on submissions: refused (422, nothing stored) unless the operator's
allow-list names its target; stored with the job otherwise; not in the job document."""

from __future__ import annotations

import pytest

from api.app import create_app
from predictq.services import Services

SECRET = "api-test-secret-0123456789"
ALLOWED = "https://hooks.example.com/predictq/done"


@pytest.fixture
def cb_services(settings):
    services = Services.build(settings.replace(
        callback_allow="hooks.example.com, 127.0.0.1:*", callback_secret=SECRET))
    yield services
    services.close()


@pytest.fixture
def cb_client(cb_services):
    return create_app(services=cb_services).test_client()


def one(url, text="hello"):
    return {"model": "language", "input": {"text": text}, "callback_url": url}


def refused(client, body, path="/v1/predictions") -> str:
    response = client.post(path, json=body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid_input"
    return error["message"]


def test_callbacks_are_refused_when_the_operator_allows_none(client, services):
    message = refused(client, one(ALLOWED))
    assert "allows no callback targets" in message
    assert services.store.list_recent() == []


@pytest.mark.parametrize("url, says", [
    ("https://internal.example.com/x", "not an allowed callback target"),
    ("http://169.254.169.254/latest/meta-data", "not an allowed callback target"),
    ("http://10.0.0.1/", "not an allowed callback target"),
    ("gopher://hooks.example.com/", "http:// or https://"),
    ("https://hooks.example.com/" + "x" * 2100, "2048"),
    (42, "callback_url"),
])
def test_targets_not_allowed_get_422_and_nothing_is_stored(cb_client, cb_services, url, says):
    assert says in refused(cb_client, one(url))
    batch = {"model": "language", "inputs": [{"text": "a"}, {"text": "b"}],
             "callback_url": url}
    assert says in refused(cb_client, batch, "/v1/predictions/batch")
    assert cb_services.store.list_recent() == []


def test_an_allowed_callback_is_stored_with_the_job_but_not_shown(cb_client, cb_services):
    response = cb_client.post("/v1/predictions", json=one(ALLOWED))
    assert response.status_code == 202
    tid = response.get_json()["tracking_id"]
    state = cb_services.store.callbacks.get(tid)
    assert state.url == ALLOWED and state.due_at is None  # owed once the job is final
    document = cb_client.get(f"/v1/predictions/{tid}").get_json()
    assert "callback_url" not in document


def test_one_callback_url_covers_every_job_of_a_batch(cb_client, cb_services):
    body = {"model": "language", "inputs": [{"text": "a"}, {"text": "b"}],
            "callback_url": "http://127.0.0.1:9999/hook"}
    response = cb_client.post("/v1/predictions/batch", json=body)
    assert response.status_code == 202
    ids = response.get_json()["tracking_ids"]
    assert [cb_services.store.callbacks.get(t).url for t in ids] == [
        "http://127.0.0.1:9999/hook"] * 2


def test_without_callback_url_nothing_changes(cb_client, cb_services):
    response = cb_client.post("/v1/predictions",
                              json={"model": "language", "input": {"text": "hi"}})
    assert response.status_code == 202
    assert cb_services.store.callbacks.get(response.get_json()["tracking_id"]) is None
