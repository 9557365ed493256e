"""`store.keys` and job owners on every backend (SQLite, mongomock, the MongoDB wire
server): keys kept by hash, found, listed and revoked; a job remembers its submitter."""

from __future__ import annotations

import pytest

from predictq import apikeys
from predictq.jobs import Job
from predictq.store.keys import ApiKey


def test_a_key_is_found_by_its_hash_listed_and_revoked(store):
    keys = store.keys
    assert keys.list() == [] and keys.by_hash("0" * 64) is None and keys.get("k") is None
    first = ApiKey("k1", "a" * 64, ("submit", "read"), name="ci", prefix="pqk_abcd",
                   created_at=10.0)
    second = ApiKey("k2", "b" * 64, ("admin",), created_at=20.0)
    keys.add(second)
    keys.add(first)
    assert keys.by_hash("a" * 64) == first
    assert keys.get("k2") == second
    assert keys.list() == [first, second]  # oldest first

    assert keys.revoke("k1", 30.0) is True
    assert keys.revoke("k1", 40.0) is True  # again: the first revocation stands
    revoked = keys.by_hash("a" * 64)
    assert (revoked.revoked_at, revoked.active) == (30.0, False)
    assert keys.get("k2").active
    assert keys.revoke("nope", 30.0) is False


def test_an_id_or_a_secret_is_stored_once(store):
    store.keys.add(ApiKey("k1", "a" * 64, ("read",), created_at=1.0))
    with pytest.raises(ValueError):
        store.keys.add(ApiKey("k1", "c" * 64, ("read",), created_at=2.0))
    with pytest.raises(ValueError):
        store.keys.add(ApiKey("k9", "a" * 64, ("read",), created_at=2.0))
    assert [k.key_id for k in store.keys.list()] == ["k1"]


def test_an_issued_secret_authenticates_until_revoked(store):
    key, secret = apikeys.issue(store, ["submit", "read"], name="ci")
    assert secret.startswith("pqk_") and len(secret) > 40
    stored = store.keys.get(key.key_id)
    assert stored.key_hash == apikeys.hash_secret(secret) != secret  # only the hash
    assert secret not in repr(store.keys.list())
    auth = apikeys.Authenticator(store, cache_s=0)
    assert auth.authenticate(secret) == stored
    assert auth.authenticate(secret + "x") is None
    assert auth.authenticate("not-a-key") is None
    store.keys.revoke(key.key_id, 1.0)
    assert auth.authenticate(secret) is None


def test_a_job_remembers_the_key_that_submitted_it(store):
    mine = Job(model="language", input={"text": "a"}, owner="k1")
    nobody = Job(model="language", input={"text": "b"})
    store.create([mine, nobody])
    assert store.get(mine.tracking_id).owner == "k1"
    assert store.get(nobody.tracking_id).owner is None
    assert [j.owner for j in store.get_many([mine.tracking_id, nobody.tracking_id])] == [
        "k1", None]
    swept = {j.tracking_id: j.owner for j in store.sweep(stale_before=mine.created_at + 1)}
    assert swept[mine.tracking_id] == "k1"
