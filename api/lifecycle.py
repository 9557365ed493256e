"""The model lifecycle over REST: feedback on a result, and one model's versions with
their live accuracy and the shadow comparison."""

from __future__ import annotations

from flask import Blueprint, jsonify

from api.bodies import json_body
from api.context import services
from models.errors import UnknownModelName
from predictq.errors import NotFound, UnknownModel
from predictq.lifecycle import feedback, report

bp = Blueprint("lifecycle", __name__)


@bp.post("/v1/predictions/<tracking_id>/feedback")
def give_feedback(tracking_id: str):
    stored = feedback.give(services().store, tracking_id, json_body())
    return jsonify(stored.to_public())


@bp.get("/v1/predictions/<tracking_id>/feedback")
def get_feedback(tracking_id: str):
    stored = services().store.models.get_feedback(tracking_id)
    if stored is None:
        raise NotFound(f"no feedback for {tracking_id!r}")
    return jsonify(stored.to_public())


@bp.get("/v1/models/<name>")
def model(name: str):
    svc = services()
    try:
        detail = report.model_detail(svc.store, svc.settings.resolved_model_dir, name)
    except UnknownModelName as exc:
        raise UnknownModel(str(exc)) from None
    return jsonify(detail)
