"""Models, queue, health, metrics and the UI page."""

from __future__ import annotations

import json

from tests.conftest import drain


def submit(client, text="Bonjour tout le monde, comment allez-vous ?"):
    r = client.post("/v1/predictions", data=json.dumps(
        {"model": "language", "input": {"text": text}}), content_type="application/json")
    assert r.status_code == 202
    return r.get_json()["tracking_id"]


def test_models_lists_language_with_version_and_metrics(client):
    models = {m["name"]: m for m in client.get("/v1/models").get_json()["models"]}
    language = models["language"]
    assert language["trained"] is True
    assert len(language["version"]) == 12
    assert 0.9 < language["metrics"]["heldout_accuracy"] <= 1.0


def test_models_reports_an_untrained_model(client, services, tmp_path):
    services.settings = services.settings.replace(model_dir=tmp_path / "empty")
    models = {m["name"]: m for m in client.get("/v1/models").get_json()["models"]}
    assert models["language"]["trained"] is False and models["language"]["version"] is None


def test_queue_reports_depth_rates_and_oldest_age(client, settings):
    for _ in range(3):
        submit(client)
    body = client.get("/v1/queue").get_json()
    assert body["dead_letter"] == {"queue": f"{settings.queue_prefix}.dead", "depth": 0}
    queues = {q["family"]: q for q in body["queues"]}
    text = queues["text"]
    assert text["queue"] == f"{settings.queue_prefix}.text"
    assert text["depth"] == 3
    assert text["publish_rate"] == 3 / 60
    assert text["oldest_age_seconds"] >= 0
    drain(settings, 3)
    text = {q["family"]: q for q in client.get("/v1/queue").get_json()["queues"]}["text"]
    assert text["depth"] == 0 and text["oldest_age_seconds"] is None
    assert text["ack_rate"] == 3 / 60


def test_healthz_reports_store_and_broker(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.get_json()
    assert {k: body[k] for k in ("status", "store", "broker")} == {
        "status": "ok", "store": {"ok": True}, "broker": {"ok": True}}
    assert body["models"]["language"] == {"ok": True}


def test_healthz_is_503_when_the_broker_is_unreachable(client, services):
    services.publisher.settings = services.settings.replace(
        broker_url="amqp://guest:guest@127.0.0.1:1//")
    r = client.get("/healthz")
    assert r.status_code == 503
    body = r.get_json()
    assert body["status"] == "degraded" and body["broker"]["ok"] is False
    assert body["store"]["ok"] is True


def test_metrics_count_submissions_and_jobs(client, settings):
    submit(client)
    drain(settings, 1)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'predictq_submissions_total{model="language"}' in text
    assert 'predictq_jobs{model="language",status="done"} 1.0' in text
    assert "predictq_end_to_end_latency_seconds_bucket" in text
    assert "predictq_queue_depth" in text


def test_unknown_route_uses_the_error_envelope(client):
    r = client.get("/v1/nothing-here")
    assert r.status_code == 404
    assert r.get_json()["error"]["code"] == "not_found"


def test_wrong_method_is_405_in_the_envelope(client):
    r = client.delete("/v1/predictions")
    assert r.status_code == 405
    assert r.get_json()["error"]["code"] == "method_not_allowed"


def test_ui_page_has_the_form_and_script(client):
    page = client.get("/").get_data(as_text=True)
    assert '<form id="submit-form">' in page and "app.js" in page
    script = client.get("/static/app.js").get_data(as_text=True)
    assert "textContent" in script and "innerHTML" not in script
