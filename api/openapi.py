"""The OpenAPI 3.1 document, built from the declarations on the app's own routes
(api/declare.py), and the request-body validators compiled from the same schemas.

`GET /openapi.json` serves the document; `GET /docs` renders it with the vendored
Swagger UI (ui/static/vendor/swagger-ui/). Built once per app, from its settings: the
limits a schema states (text length, batch size, readings per request) are the ones
this deployment enforces.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
from flask import Blueprint, Flask, Response, current_app, render_template
from werkzeug.routing import Rule

from api import auth, schemas
from api.declare import Operation, Param, Reply, operation_of, resolve
from predictq import ratelimits
from predictq.settings import Settings

bp = Blueprint("openapi", __name__)

DIALECT = "https://json-schema.org/draft/2020-12/schema"
# Routes outside the document: the browser pages, the document itself, static files.
UNDOCUMENTED = ("static", "openapi.", "ops.index", "monitor.dashboard", "pages.")
# Error statuses every declared operation can give, added by hooks that wrap them all
# (e.g. authentication): {status: description}. Filled in before create_app builds.
COMMON_ERRORS: dict[int, str] = {}
TAGS = {
    "predictions": "Submit inputs to a model and poll for the results.",
    "lifecycle": "Feedback on results: the true answers versions are judged by.",
    "models": "The registered models and the versions serving them.",
    "sensors": "Sensor streams: readings in; sensors, readings, events and alerts out.",
    "operations": "Queues, health, metrics and the dashboard's data.",
}
_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@dataclass(frozen=True)
class Validator:
    """A request body's compiled schema, and the hand-written check that explains a
    refusal (api/bodies.py)."""

    compiled: Any
    operation: Operation


@dataclass(frozen=True)
class Spec:
    document: dict[str, Any]
    body: bytes  # the document serialised once
    validators: dict[str, Validator]  # by Flask endpoint


def install(app: Flask, settings: Settings) -> None:
    """Build the document and the validators from the routes registered so far."""
    if bp.name not in app.blueprints:  # installed again after late routes: rebuilt
        app.register_blueprint(bp)
    components = schemas.components(settings)
    document = build(app, settings, components)
    validators = {}
    for endpoint, view in app.view_functions.items():
        op = operation_of(view)
        source = resolve(op.body, settings) if op is not None else None
        if op is not None and source is not None:
            root = {"$schema": DIALECT, **source, "components": {"schemas": components}}
            validators[endpoint] = Validator(
                jsonschema_rs.validator_for(root, validate_formats=False), op)
    app.extensions["openapi"] = Spec(document, json.dumps(document).encode(), validators)


def spec() -> Spec:
    return current_app.extensions["openapi"]


def build(app: Flask, settings: Settings, components: dict[str, Any]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint.startswith(UNDOCUMENTED):
            continue
        op = operation_of(app.view_functions[rule.endpoint])
        if op is None:
            continue  # tests/api/test_openapi.py fails for an undeclared /v1 route
        path = _PARAM.sub(r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, op, settings)
    extra: dict[str, Any] = {}
    if settings.keys_required:  # docs/SECURITY.md; the scopes are api/auth.py's
        extra["securitySchemes"] = auth.SECURITY_SCHEMES
    return {
        "openapi": "3.1.0",
        "info": {"title": "predictq", "version": "1",
                 "description": "Asynchronous predictions: submit an input, get a "
                                "tracking id at once, poll for the result. Every error "
                                "is `{\"error\": {\"code\", \"message\"}}`.",
                 "license": {"name": "MIT", "identifier": "MIT"}},
        "tags": [{"name": name, "description": text} for name, text in TAGS.items()],
        "paths": paths,
        "components": {"schemas": components, **extra},
    }


def _operation(rule: Rule, op: Operation, settings: Settings) -> dict[str, Any]:
    declared = {p.name for p in op.params}
    params = [Param(name, "path", {"type": "string", "minLength": 1}, required=True)
              for name in sorted(rule.arguments) if name not in declared]
    out: dict[str, Any] = {"operationId": rule.endpoint.replace(".", "_"),
                           "summary": op.summary, "tags": [op.tag]}
    if op.description:
        out["description"] = op.description
    if params or op.params:
        out["parameters"] = [_param(p) for p in (*params, *op.params)]
    body = resolve(op.body, settings)
    if body is not None:
        out["requestBody"] = {"required": True,
                              "content": {"application/json": {"schema": body}}}
    responses: dict[str, Any] = {
        str(status): _reply(reply, settings) for status, reply in op.ok.items()}
    errors = {**{s: schemas.ERRORS[s] for s in op.errors}, **COMMON_ERRORS}
    security, guarded = auth.documented(rule.endpoint, rule.rule, settings.keys_required,
                                        bool(ratelimits.limit_strings(settings)))
    errors.update(guarded)
    if security is not None:
        out["security"] = security
    for status, text in sorted(errors.items()):
        responses.setdefault(str(status), {
            "description": text,
            "content": {"application/json": {"schema": schemas.ref("Error")}}})
    for status, header in ((401, "WWW-Authenticate"), (429, "Retry-After")):
        if str(status) in responses:
            responses[str(status)]["headers"] = {header: {"schema": {"type": "string"}}}
    out["responses"] = responses
    return out


def _param(p: Param) -> dict[str, Any]:
    out = {"name": p.name, "in": p.where, "required": p.required or p.where == "path",
           "schema": p.schema}
    if p.description:
        out["description"] = p.description
    return out


def _reply(reply: Reply, settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {"description": reply.description}
    schema = resolve(reply.schema, settings)
    if schema is not None:
        out["content"] = {reply.media_type: {"schema": schema}}
    elif reply.media_type != "application/json":
        out["content"] = {reply.media_type: {"schema": {"type": "string"}}}
    if reply.headers:
        out["headers"] = {name: {"schema": s} for name, s in reply.headers.items()}
    return out


@bp.get("/openapi.json")
def document() -> Response:
    return Response(spec().body, mimetype="application/json")


@bp.get("/docs")
def reference():
    return render_template("docs.html")
