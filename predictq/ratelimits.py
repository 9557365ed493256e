"""Where rate-limit counters live and what the limits are, from settings (no Flask:
api/ratelimit.py applies them to requests).

The counters must be shared by every API process and replica, or each process would
allow the whole limit again: Redis when `PREDICTQ_RATE_LIMIT_STORAGE_URL` names one,
else beside the store — the MongoDB server the store uses (the `limits` library's
MongoDB storage, a database of its own), or a SQLite file next to the store's file
(predictq.store.sqlite_limits), shared by the processes of one machine.
"""

from __future__ import annotations

from limits import parse_many

from predictq.settings import Settings
from predictq.store import SQLITE_PREFIX
from predictq.store.mongo import database_from_url

OFF = ("", "off", "0", "none")


def limit_strings(settings: Settings) -> list[str]:
    """The configured limits (checked by the `limits` parser), or [] when off."""
    raw = settings.rate_limit.strip()
    if raw.lower() in OFF:
        return []
    try:
        parse_many(raw)
    except ValueError as exc:
        raise ValueError(f"PREDICTQ_RATE_LIMIT={raw!r}: {exc}") from None
    return [part.strip() for part in raw.split(";") if part.strip()]


def storage(settings: Settings) -> tuple[str, dict[str, str]]:
    """The `limits` storage URI for this deployment and its options."""
    if settings.rate_limit_storage_url:
        return settings.rate_limit_storage_url, {}
    store_url = settings.resolved_store_url
    scheme = store_url.partition("://")[0].lower()
    if scheme in ("mongodb", "mongodb+srv"):
        return store_url, {"database_name": database_from_url(store_url) + "_limits"}
    if scheme == "sqlite":
        from predictq.store.sqlite_limits import storage_uri

        return storage_uri(store_url[len(SQLITE_PREFIX):] + ".limits"), {}
    return "memory://", {}  # mongomock: tests, one process
