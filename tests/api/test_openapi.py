"""The OpenAPI document: valid 3.1, complete, and the very schemas requests are held to."""

from __future__ import annotations

import json

import pytest
from flask import Blueprint
from openapi_spec_validator import OpenAPIV31SpecValidator

from api import schemas
from api.app import create_app
from api.bodies import json_body
from api.declare import declare
from api.openapi import UNDOCUMENTED
from api.openapi import install as install_openapi
from api.security import CONTENT_SECURITY_POLICY


@pytest.fixture
def document(client) -> dict:
    r = client.get("/openapi.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    return r.get_json()


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    OpenAPIV31SpecValidator(document).validate()


def test_every_api_route_is_in_the_document(client, document):
    # A new endpoint without a declaration fails here.
    app = client.application
    routes = [r for r in app.url_map.iter_rules()
              if r.rule.startswith("/v1") or r.rule in ("/healthz", "/metrics")]
    assert len(routes) >= 15
    for rule in routes:
        assert not rule.endpoint.startswith(UNDOCUMENTED), rule.rule
        path = rule.rule.replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in document["paths"].get(path, {}), f"{method} {path}"


def test_the_model_input_schemas_are_in_it_with_this_deployments_limits(settings,
                                                                      document):
    named = document["components"]["schemas"]
    text = named["LanguageInput"]["properties"]["text"]
    assert text["maxLength"] == settings.max_text_chars and text["minLength"] == 1
    assert named["LanguageInput"]["additionalProperties"] is False
    appliance = named["ApplianceInput"]["properties"]["readings"]
    assert (appliance["minItems"], appliance["maxItems"]) == (728, 5840)
    assert named["AnomalyInput"]["properties"]["readings"]["minItems"] == 256
    submit = document["paths"]["/v1/predictions"]["post"]
    variants = submit["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert {v["properties"]["model"]["const"] for v in variants} == {
        "language", "appliance", "anomaly"}
    batch = document["paths"]["/v1/predictions/batch"]["post"]["requestBody"]
    inputs = batch["content"]["application/json"]["schema"]["oneOf"][0]["properties"]
    assert inputs["inputs"]["maxItems"] == settings.max_batch_inputs


def test_every_error_response_has_the_envelope(document):
    for path, item in document["paths"].items():
        for method, op in item.items():
            errors = {s: r for s, r in op["responses"].items() if int(s) >= 400}
            if method == "post":
                assert {"400", "413", "415", "422", "503"} <= set(errors), path
            for status, response in errors.items():
                if (path, status) == ("/healthz", "503"):
                    continue  # the health report itself, degraded
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (path, status)
    assert document["components"]["schemas"]["Error"] == schemas.ERROR


def test_a_body_its_schema_refuses_is_refused_with_the_schemas_words(settings, services):
    # No hand-written check behind it: the declared schema alone decides.
    bp = Blueprint("probe", __name__)

    @bp.post("/v1/probe")
    @declare("probe", tag="t", ok={200: {}},
             body={"type": "object", "properties": {"n": {"type": "integer",
                                                          "maximum": 3}}})
    def probe():
        return {"n": json_body()["n"]}

    app = create_app(services=services)
    app.register_blueprint(bp)
    install_openapi(app, settings)  # again, now that the probe is registered
    client = app.test_client()
    assert client.post("/v1/probe", json={"n": 3}).get_json() == {"n": 3}
    r = client.post("/v1/probe", json={"n": 4})
    assert r.status_code == 422
    assert r.get_json()["error"] == {"code": "invalid_input",
                                     "message": "n: 4 is greater than the maximum of 3"}


def test_a_refusal_keeps_its_hand_written_status_and_words(client):
    r = client.post("/v1/predictions", json={"model": "nope", "input": {"text": "hi"}})
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "unknown_model"
    r = client.post("/v1/predictions", json={"model": "language", "input": {"text": 7}})
    assert r.status_code == 422
    assert r.get_json()["error"]["message"] == "input.text must be a non-empty string"


def test_a_lone_surrogate_is_refused_before_the_store_sees_it(client, services):
    # Regression: json.loads accepts "\ud800", which no UTF-8 store can hold (MongoDB's
    # BSON encoder raised, a 500); the schema check now answers 400.
    for text in ("ab\\ud800", "\\udfff"):
        r = client.post("/v1/predictions", content_type="application/json",
                        data=f'{{"model": "language", "input": {{"text": "{text}"}}}}')
        assert r.status_code == 400, r.get_json()
        assert r.get_json()["error"]["code"] == "invalid_request"
    assert sum(services.store.count_by_status().values()) == 0


def test_the_reference_page_renders_the_document_with_vendored_files(client):
    r = client.get("/docs")
    assert r.status_code == 200
    assert r.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    page = r.get_data(as_text=True)
    assert "<script>" not in page and "http" not in page.replace('"/static', "")
    for asset in ("vendor/swagger-ui/swagger-ui-bundle.js",
                  "vendor/swagger-ui/swagger-ui.css", "docs.js"):
        assert f"/static/{asset}" in page
        assert client.get(f"/static/{asset}").status_code == 200


def test_the_document_is_json_served_as_is(client, document):
    assert json.loads(client.get("/openapi.json").get_data()) == document
