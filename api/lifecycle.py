"""The model lifecycle over REST: feedback on a result, and one model's versions with
their live accuracy and the shadow comparison."""

from __future__ import annotations

from flask import Blueprint, jsonify

from api import schemas
from api.bodies import json_body
from api.context import services
from api.declare import declare
from models.errors import UnknownModelName
from predictq.errors import NotFound, UnknownModel
from predictq.lifecycle import feedback, report
from predictq.lifecycle.feedback import parse_body

bp = Blueprint("lifecycle", __name__)


@bp.post("/v1/predictions/<tracking_id>/feedback")
@declare("Give the true answer for a done prediction", tag="lifecycle",
         body=schemas.FEEDBACK_BODY, explain=parse_body, ok={200: schemas.FEEDBACK},
         errors=(400, 404, 409, 413, 415, 422, 503))
def give_feedback(tracking_id: str):
    stored = feedback.give(services().store, tracking_id, json_body())
    return jsonify(stored.to_public())


@bp.get("/v1/predictions/<tracking_id>/feedback")
@declare("The feedback given on a prediction", tag="lifecycle", ok={200: schemas.FEEDBACK},
         errors=(404, 503))
def get_feedback(tracking_id: str):
    stored = services().store.models.get_feedback(tracking_id)
    if stored is None:
        raise NotFound(f"no feedback for {tracking_id!r}")
    return jsonify(stored.to_public())


@bp.get("/v1/models/<name>")
@declare("One model: its versions, live accuracy and shadow comparison", tag="models",
         ok={200: schemas.MODEL_DETAIL}, errors=(404, 503))
def model(name: str):
    svc = services()
    try:
        detail = report.model_detail(svc.store, svc.settings.resolved_model_dir, name)
    except UnknownModelName as exc:
        raise UnknownModel(str(exc)) from None
    return jsonify(detail)
