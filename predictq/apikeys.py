"""API keys: scopes, making a key, recognising one, and who may read which job.

A key's secret is `pqk_` + 43 URL-safe characters (256 random bits from `secrets`).
The store keeps only its SHA-256: a secret this random needs no salt or slow hash (no
dictionary reaches it), and a leaked store does not yield a usable key. A secret is
found by its hash (the store's unique index) and compared again in constant time.

Scopes (docs/SECURITY.md has the table of endpoints):
- `submit`    POST predictions (single and batch) and sensor readings;
- `read`      GET the jobs this key submitted, and the model list;
- `read-all`  GET any job, sensors, alerts, queues, the monitor: implies `read`;
- `feedback`  POST and GET feedback on any job;
- `admin`     everything above.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Iterable

from predictq.jobs import Job
from predictq.store import Store
from predictq.store.keys import ApiKey

SUBMIT, READ, READ_ALL, FEEDBACK, ADMIN = "submit", "read", "read-all", "feedback", "admin"
SCOPES = (SUBMIT, READ, READ_ALL, FEEDBACK, ADMIN)
# What holding a scope also grants.
IMPLIES = {ADMIN: set(SCOPES), READ_ALL: {READ_ALL, READ}}

SECRET_PREFIX = "pqk_"
SHOWN_PREFIX = 8  # characters of the secret kept to recognise it in `predictq keys list`
CACHE_S = 5.0  # a revoked key stops working within this, in every API process


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def issue(store: Store, scopes: Iterable[str], name: str = "") -> tuple[ApiKey, str]:
    """Make and store a key; return it and its secret (shown once, never stored)."""
    scopes = tuple(dict.fromkeys(scopes))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise ValueError(f"scopes must be some of {', '.join(SCOPES)}; got "
                         f"{', '.join(unknown) or 'none'}")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(key_id=secrets.token_hex(6), key_hash=hash_secret(secret), scopes=scopes,
                 name=name, prefix=secret[:SHOWN_PREFIX], created_at=time.time())
    store.keys.add(key)
    return key, secret


def granted(key: ApiKey) -> set[str]:
    """Every scope the key holds, implied ones included."""
    out: set[str] = set()
    for scope in key.scopes:
        out |= IMPLIES.get(scope, {scope})
    return out


def allows(key: ApiKey, scope: str) -> bool:
    return scope in granted(key)


def may_read(key: ApiKey | None, job: Job) -> bool:
    """Whether `key` may see `job`: always with keys off (None), with `read-all`, or
    when it submitted the job. Jobs without an owner (before keys, or made by a sensor
    stream) are readable with `read-all` only."""
    if key is None or allows(key, READ_ALL):
        return True
    return job.owner is not None and hmac.compare_digest(job.owner, key.key_id)


class Authenticator:
    """Finds the active key for a secret, remembering answers for `CACHE_S` so a
    request costs no store read; thread-safe."""

    def __init__(self, store: Store, cache_s: float | None = None,
                 max_entries: int = 10_000) -> None:
        self.store = store
        self.cache_s = CACHE_S if cache_s is None else cache_s
        self.max_entries = max_entries
        self._cache: dict[str, tuple[float, ApiKey | None]] = {}
        self._lock = threading.Lock()

    def authenticate(self, secret: str) -> ApiKey | None:
        """The active key whose secret this is, or None (unknown, malformed, revoked)."""
        if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
            return None
        digest = hash_secret(secret)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        key = self.store.keys.by_hash(digest)
        if key is not None and not (key.active and hmac.compare_digest(key.key_hash, digest)):
            key = None
        with self._lock:
            if len(self._cache) >= self.max_entries:  # unknown secrets cannot grow it forever
                self._cache.clear()
            self._cache[digest] = (now + self.cache_s, key)
        return key
