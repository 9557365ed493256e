"""The REST contract of /v1/predictions, on the in-memory broker."""

from __future__ import annotations

import json

import pytest

from predictq.jobs import Status
from tests.conftest import drain

SENTENCES = {
    "sv": "Jag tycker om att läsa böcker på kvällarna när det regnar ute.",
    "ar": "ذهبت إلى السوق صباح اليوم واشتريت بعض الخضروات والفواكه الطازجة.",
    "ja": "昨日は友達と一緒に新しいレストランで晩ご飯を食べました。",
}


def post(client, body, path="/v1/predictions", **headers):
    return client.post(path, data=json.dumps(body), content_type="application/json",
                       headers=headers)


def stored_count(services) -> int:
    return sum(services.store.count_by_status().values())


def test_submit_answers_202_with_tracking_id_and_location(client, services):
    r = post(client, {"model": "language", "input": {"text": SENTENCES["sv"]}})
    assert r.status_code == 202
    body = r.get_json()
    assert body["status"] == "queued"
    assert r.headers["Location"] == f"/v1/predictions/{body['tracking_id']}"
    services.intake.marks.flush()  # marks are written in the background
    job = services.store.get(body["tracking_id"])
    assert job is not None and job.published and job.input == {"text": SENTENCES["sv"]}


def test_location_keeps_the_mount_point_behind_a_proxy(client):
    r = client.post("/v1/predictions", base_url="http://localhost/pq",
                    data=json.dumps({"model": "language", "input": {"text": "hello there"}}),
                    content_type="application/json")
    assert r.status_code == 202 and r.mimetype == "application/json"
    assert r.headers["Location"] == f"/pq/v1/predictions/{r.get_json()['tracking_id']}"
    assert client.get(r.headers["Location"].removeprefix("/pq")).status_code == 200


def test_tracking_ids_are_long_random_and_distinct(client):
    ids = {post(client, {"model": "language", "input": {"text": "hello there"}})
           .get_json()["tracking_id"] for _ in range(20)}
    assert len(ids) == 20
    assert all(len(i) >= 22 for i in ids)  # 22 url-safe chars = 128 bits


def test_poll_shows_queued_then_done_with_the_right_language(client, settings):
    ids = {lang: post(client, {"model": "language", "input": {"text": text}})
           .get_json()["tracking_id"] for lang, text in SENTENCES.items()}
    first = client.get(f"/v1/predictions/{ids['sv']}").get_json()
    assert first["status"] == "queued" and first["result"] is None
    assert drain(settings, len(ids)) == len(ids)
    for lang, tid in ids.items():
        job = client.get(f"/v1/predictions/{tid}").get_json()
        assert job["status"] == "done", job
        assert job["result"]["label"] == lang
        assert 0 <= job["result"]["confidence"] <= 1
        assert job["model"] == "language" and job["model_version"]
        assert set(job) == {"tracking_id", "model", "status", "result", "error",
                            "model_version", "created_at", "updated_at"}


def test_a_text_without_letters_is_done_as_undetermined(client, settings):
    # Not a confident-looking "zh" (issue 13); the rule is models/language/undetermined.py.
    tid = post(client, {"model": "language", "input": {"text": "😀😀😀"}}).get_json()["tracking_id"]
    assert drain(settings, 1) == 1
    job = client.get(f"/v1/predictions/{tid}").get_json()
    assert job["status"] == "done"
    assert job["result"] == {"label": "und", "name": "Undetermined", "confidence": 0.0}


def test_batch_returns_one_id_per_input_in_order(client, services, settings):
    texts = list(SENTENCES.values())
    r = post(client, {"model": "language", "inputs": [{"text": t} for t in texts]},
             path="/v1/predictions/batch")
    assert r.status_code == 202
    ids = r.get_json()["tracking_ids"]
    assert [services.store.get(i).input["text"] for i in ids] == texts
    drain(settings, len(ids), batch_size=8)
    labels = [services.store.get(i).result["label"] for i in ids]
    assert labels == list(SENTENCES)


def test_unknown_tracking_id_is_404(client):
    r = client.get("/v1/predictions/does-not-exist")
    assert r.status_code == 404
    assert r.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"model": "nope", "input": {"text": "hi"}}, 404, "unknown_model"),
        ({"model": "language", "input": {"text": ""}}, 422, "invalid_input"),
        ({"model": "language", "input": {"text": "   "}}, 422, "invalid_input"),
        ({"model": "language", "input": {"text": 42}}, 422, "invalid_input"),
        ({"model": "language", "input": {}}, 422, "invalid_input"),
        ({"model": "language", "input": "text"}, 422, "invalid_input"),
        ({"model": "language"}, 422, "invalid_input"),
        ({"input": {"text": "hi"}}, 422, "invalid_input"),
        ({"model": "language", "input": {"text": "hi"}, "extra": 1}, 422, "invalid_input"),
        ([1, 2], 400, "invalid_request"),
    ],
)
def test_bad_submissions_get_a_clear_error_and_store_nothing(client, services, body, status,
                                                             code):
    r = post(client, body)
    assert r.status_code == status
    error = r.get_json()["error"]
    assert error["code"] == code and error["message"]
    assert stored_count(services) == 0


def test_malformed_json_is_400(client, services):
    r = client.post("/v1/predictions", data='{"model": "language", "input": ',
                    content_type="application/json")
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "invalid_request"
    assert stored_count(services) == 0


@pytest.mark.parametrize("path", ["/v1/predictions", "/v1/predictions/batch"])
def test_json_nested_too_deeply_is_400_not_500(client, services, path):
    # The standard parser recurses per level: 100,000 levels once made a RecursionError
    # and a 500 (issue 13).
    deep = "[" * 100_000 + "]" * 100_000
    r = client.post(path, data=f'{{"model": "language", "input": {deep}}}',
                    content_type="application/json", headers={"Idempotency-Key": "deep"})
    assert r.status_code == 400, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "invalid_request" and "nested" in error["message"]
    assert stored_count(services) == 0


def test_feedback_nested_too_deeply_is_400(client):
    deep = "[" * 100_000 + "]" * 100_000
    r = client.post("/v1/predictions/nope/feedback", data=f'{{"label": {deep}}}',
                    content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize("path", ["/v1/predictions", "/v1/predictions/batch"])
def test_a_model_no_deployment_can_serve_is_503_and_stores_nothing(settings, tmp_path, path):
    # Accepted once, then failed by every worker (issue 13); the API sees the artifacts.
    from api.app import create_app
    from predictq.services import Services

    services = Services.build(settings.replace(model_dir=tmp_path / "no-models"))
    try:
        client = create_app(services=services).test_client()
        body = ({"model": "language", "inputs": [{"text": "hello there"}]}
                if path.endswith("batch") else {"model": "language", "input": {"text": "hi"}})
        r = post(client, body, path=path)
        assert r.status_code == 503
        error = r.get_json()["error"]
        assert error["code"] == "model_unavailable"
        assert "predictq train language" in error["message"]
        assert stored_count(services) == 0
        assert post(client, {"model": "nope", "input": {}}, path=path).status_code == 404
        health = client.get("/healthz")
        assert health.status_code == 200 and health.get_json()["models"]["language"]["ok"] is False
    finally:
        services.close()


def test_wrong_content_type_is_415(client, services):
    r = client.post("/v1/predictions", data="model=language", content_type="text/plain")
    assert r.status_code == 415
    assert r.get_json()["error"]["code"] == "unsupported_media_type"
    assert stored_count(services) == 0


def test_body_too_large_is_413(client, services):
    huge = {"model": "language", "input": {"text": "a" * 2_000_000}}
    r = post(client, huge)
    assert r.status_code == 413
    assert r.get_json()["error"]["code"] == "payload_too_large"
    assert stored_count(services) == 0


def test_text_over_the_limit_is_422(client, services, settings):
    r = post(client, {"model": "language", "input": {"text": "a" * (settings.max_text_chars + 1)}})
    assert r.status_code == 422
    assert stored_count(services) == 0


def test_one_bad_input_rejects_the_whole_batch(client, services):
    r = post(client, {"model": "language", "inputs": [{"text": "good text"}, {"text": ""}]},
             path="/v1/predictions/batch")
    assert r.status_code == 422
    assert "inputs[1]" in r.get_json()["error"]["message"]
    assert stored_count(services) == 0


def test_batch_over_the_limit_is_422(client, services, settings):
    inputs = [{"text": "hello"}] * (settings.max_batch_inputs + 1)
    r = post(client, {"model": "language", "inputs": inputs}, path="/v1/predictions/batch")
    assert r.status_code == 422
    assert stored_count(services) == 0


def test_empty_batch_is_422(client):
    r = post(client, {"model": "language", "inputs": []}, path="/v1/predictions/batch")
    assert r.status_code == 422


def test_idempotency_key_returns_the_same_tracking_id(client, services):
    body = {"model": "language", "input": {"text": "Guten Morgen, wie geht es dir?"}}
    a = post(client, body, **{"Idempotency-Key": "k-1"}).get_json()["tracking_id"]
    b = post(client, body, **{"Idempotency-Key": "k-1"}).get_json()["tracking_id"]
    assert a == b
    assert stored_count(services) == 1


def test_idempotency_key_with_another_body_is_422(client, services):
    post(client, {"model": "language", "input": {"text": "one"}}, **{"Idempotency-Key": "k"})
    r = post(client, {"model": "language", "input": {"text": "two"}}, **{"Idempotency-Key": "k"})
    assert r.status_code == 422
    assert r.get_json()["error"]["code"] == "idempotency_conflict"
    assert stored_count(services) == 1


def test_batch_idempotency_key_returns_the_same_ids(client, services):
    body = {"model": "language", "inputs": [{"text": "uno dos tres"}, {"text": "un deux"}]}
    a = post(client, body, path="/v1/predictions/batch", **{"Idempotency-Key": "b"})
    b = post(client, body, path="/v1/predictions/batch", **{"Idempotency-Key": "b"})
    assert a.get_json() == b.get_json()
    assert stored_count(services) == 2


def test_broker_down_still_accepts_and_the_sweeper_publishes_later(client, services,
                                                                     settings, monkeypatch):
    from predictq.errors import BrokerUnavailable
    from predictq.sweeper import Sweeper

    real_publish = services.publisher.publish

    def refuse(*args, **kwargs):
        raise BrokerUnavailable("broker unreachable: test")

    monkeypatch.setattr(services.publisher, "publish", refuse)
    r = post(client, {"model": "language", "input": {"text": "Hyvää huomenta kaikille!"}})
    assert r.status_code == 202  # stored durably: accepted
    tid = r.get_json()["tracking_id"]
    job = services.store.get(tid)
    assert job.status is Status.QUEUED and not job.published
    assert drain(settings, 1, timeout=1.0) == 0  # nothing reached the queue

    monkeypatch.setattr(services.publisher, "publish", real_publish)  # the broker is back
    sweeper = Sweeper(settings.replace(sweep_after_s=0), services.store, services.publisher)
    assert sweeper.sweep_once() == 1
    assert services.store.get(tid).published
    assert drain(settings, 1) == 1
    assert services.store.get(tid).result["label"] == "fi"


def test_store_down_is_503_and_nothing_is_published(client, services, settings, monkeypatch):
    from predictq.errors import StoreUnavailable

    def down(*args, **kwargs):
        raise StoreUnavailable("SQLite store unavailable: disk I/O error")

    monkeypatch.setattr(services.store, "create", down)
    r = post(client, {"model": "language", "input": {"text": "hello world"}})
    assert r.status_code == 503
    assert r.get_json()["error"]["code"] == "store_unavailable"
    assert drain(settings, 1, timeout=1.0) == 0
