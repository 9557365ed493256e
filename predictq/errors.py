"""One exception tree: every error predictq raises on purpose derives from PredictqError.

Each error carries the HTTP status and the machine-readable code the REST API answers
with, so the adapters translate errors without a lookup table of their own.
"""

from __future__ import annotations


class PredictqError(Exception):
    """Root of every deliberate predictq error."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(PredictqError):
    """The request body is not what the endpoint reads (malformed JSON, wrong shape)."""

    status = 400
    code = "invalid_request"


class NotFound(PredictqError):
    status = 404
    code = "not_found"


class UnknownModel(NotFound):
    code = "unknown_model"


class UnsupportedMediaType(PredictqError):
    status = 415
    code = "unsupported_media_type"


class PayloadTooLarge(PredictqError):
    status = 413
    code = "payload_too_large"


class InvalidInput(PredictqError):
    """The request is well-formed but its input does not fit the model's schema."""

    status = 422
    code = "invalid_input"


class IdempotencyConflict(InvalidInput):
    """The Idempotency-Key was used before with a different body."""

    code = "idempotency_conflict"


class ReadingsOutOfOrder(PredictqError):
    """A reading older than what was already accepted for its sensor, and not one of
    those already accepted: the request is refused whole."""

    status = 409
    code = "out_of_order"


class JobNotFinished(PredictqError):
    """Feedback on a job that has no result yet: there is nothing to be right or wrong."""

    status = 409
    code = "not_finished"


class StaleDecision(PredictqError):
    """A model switch made against a serving state that changed meanwhile."""

    status = 409
    code = "stale_decision"


class PromotionRefused(PredictqError):
    """A version scored worse than the serving one and the switch was not forced."""

    status = 409
    code = "promotion_refused"


class ServiceUnavailable(PredictqError):
    status = 503
    code = "service_unavailable"


class StoreUnavailable(ServiceUnavailable):
    code = "store_unavailable"


class BrokerUnavailable(ServiceUnavailable):
    code = "broker_unavailable"


class ModelUnavailable(ServiceUnavailable):
    """No artifact for the model where this process can see artifacts: no worker could
    answer the submission, so it is refused rather than left to wait (issue 13)."""

    code = "model_unavailable"


class ArtifactError(PredictqError):
    """A model artifact is missing, unreadable or does not match its manifest."""

    code = "artifact_error"


class Unauthorized(PredictqError):
    """No API key, or one that is unknown or revoked, where keys are required."""

    status = 401
    code = "unauthorized"


class Forbidden(PredictqError):
    """A valid API key without the scope this request needs."""

    status = 403
    code = "forbidden"
