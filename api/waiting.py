"""Results without polling (issue 15): `?wait=` on the reads, and a server-sent-event
stream of results as they become final. The waiting itself is predictq.completions;
here only the HTTP shape: parameters, the 404 for an unknown id, the event format."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from flask import Blueprint, jsonify, request

from api import schemas, sse
from api.auth import readable
from api.context import services
from api.declare import Param, Reply, declare
from predictq.errors import InvalidRequest, NotFound
from predictq.jobs import Job
from predictq.services import Services

bp = Blueprint("waiting", __name__, url_prefix="/v1/predictions")

WAIT = Param("wait", "query", {"type": "number", "minimum": 0},
             "Seconds to wait for the job(s) to become final before answering (cut to "
             "PREDICTQ_WAIT_MAX_S, 30 by default); 0 or absent answers at once.")
IDS = Param("ids", "query", {"type": "string", "minLength": 1},
            "Tracking ids, comma-separated (at most PREDICTQ_MAX_BATCH_INPUTS).",
            required=True)
STREAM_EVENT = schemas.sse_event(["prediction", "end"], {"anyOf": [schemas.ref("Job"), {
    "type": "object", "required": ["pending"], "additionalProperties": False,
    "properties": {"pending": {"type": "array", "items": {"type": "string"}}}}]})
PREDICTIONS = {"type": "object", "required": ["predictions"],
               "properties": {"predictions": {"type": "array", "items": schemas.ref("Job")}}}

def wait_seconds(default: float = 0.0) -> float:
    """`?wait=` in seconds (0 = answer at once), cut to `wait_max_s`."""
    raw = request.args.get("wait")
    if raw is None or raw == "":
        return default
    try:
        wait = float(raw)
    except ValueError:
        raise InvalidRequest(f"wait must be a number of seconds, got {raw!r}") from None
    if not wait >= 0:  # also refuses NaN
        raise InvalidRequest(f"wait must be 0 or more seconds, got {raw!r}")
    return min(wait, services().settings.wait_max_s)


def tracking_ids() -> list[str]:
    """`?ids=a,b,c`: distinct, in the order given, at most `max_batch_inputs`."""
    raw = request.args.get("ids", "")
    ids = list(dict.fromkeys(tid.strip() for tid in raw.split(",") if tid.strip()))
    if not ids:
        raise InvalidRequest("ids must name at least one tracking id (ids=a,b,c)")
    limit = services().settings.max_batch_inputs
    if len(ids) > limit:
        raise InvalidRequest(f"ids names {len(ids)} tracking ids; at most {limit}")
    return ids


def read(svc: Services, ids: Sequence[str]) -> list[Job]:
    """The jobs `ids`, in order; 404 naming the first unknown one (or one the request's
    key may not read, indistinguishable from unknown)."""
    jobs = {job.tracking_id: job for job in svc.store.get_many(ids)}
    for tid in ids:
        if tid not in jobs:
            raise NotFound(f"no prediction with tracking_id {tid!r}")
        readable(jobs[tid])
    return [jobs[tid] for tid in ids]


def waited(job: Job) -> Job:
    """`job`, or, with `?wait=`, the job once final or when the wait runs out."""
    wait = wait_seconds()
    if wait <= 0 or job.status.is_final:
        return job
    svc = services()
    return svc.completions.wait([job.tracking_id], wait,
                                lambda ids: svc.store.get_many(ids))[0]


@bp.get("")
@declare("Read many predictions, optionally waiting until all are final",
         tag="predictions", params=(IDS, WAIT), errors=(400, 404, 503),
         ok={200: Reply(PREDICTIONS, "The jobs, in the order of `ids`.")})
def list_predictions():
    svc = services()
    ids = tracking_ids()
    wait = wait_seconds()
    jobs = read(svc, ids)
    if wait > 0 and not all(job.status.is_final for job in jobs):
        jobs = svc.completions.wait(ids, wait, lambda i: svc.store.get_many(i))
    return jsonify({"predictions": [job.to_public() for job in jobs]})


@bp.get("/events")
@declare("Stream predictions as they become final (server-sent events)",
         tag="predictions", params=(IDS, WAIT), errors=(400, 404, 503),
         description="One `prediction` event (data: the job) per job as it becomes "
                     "final, those final already at once; then `end` (data: "
                     "`{\"pending\": [ids]}`) when all are final or the wait (default "
                     "the maximum) runs out.",
         ok={200: Reply(STREAM_EVENT, "An event stream; each event's data is a job "
                        "(`prediction`) or the ids still pending (`end`).",
                        media_type="text/event-stream")})
def events():
    svc = services()
    ids = tracking_ids()
    wait = wait_seconds(default=svc.settings.wait_max_s)
    read(svc, ids)  # 404 before the stream starts, not inside it
    return sse.response(_stream(svc, ids, wait))


def _stream(svc: Services, ids: list[str], wait: float) -> Iterator[str]:
    """One `prediction` event per job as it becomes final (those already final at
    once), then `end` with the ids still pending when the wait ran out: a client
    closes on `end` rather than letting EventSource reconnect."""
    pending = list(ids)
    for jobs, newly_final in svc.completions.follow(ids, wait,
                                                    lambda i: svc.store.get_many(i)):
        for job in newly_final:
            yield sse.event("prediction", job.to_public())
        pending = [job.tracking_id for job in jobs if not job.status.is_final]
    yield sse.event("end", {"pending": pending})
