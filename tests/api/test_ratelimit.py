"""Rate limits: 429 `rate_limited` with Retry-After, per key (per address with keys
off), one count across API processes (two apps on one store = two processes' worth)."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from collections.abc import Iterator

import pytest
from limits import parse_many

from api.app import create_app
from predictq import apikeys, ratelimits
from predictq.services import Services
from predictq.settings import Settings
from predictq.store.sqlite_limits import SqliteLimitStorage, storage_uri

TEXT = json.dumps({"model": "language", "input": {"text": "Jag tycker om att läsa."}})


@pytest.fixture
def limited(settings) -> Iterator[Settings]:
    return settings.replace(rate_limit="3/minute")


def build(settings: Settings) -> tuple[Services, object]:
    services = Services.build(settings)
    return services, create_app(services=services).test_client()


def submit(client, **headers):
    return client.post("/v1/predictions", data=TEXT, content_type="application/json",
                       headers=headers)


def test_over_the_limit_is_429_with_retry_after(limited):
    services, client = build(limited)
    try:
        assert [submit(client).status_code for _ in range(3)] == [202] * 3
        response = client.get("/v1/models")
        assert response.status_code == 429
        assert response.get_json()["error"]["code"] == "rate_limited"
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        assert sum(services.store.count_by_status().values()) == 3
        assert submit(client).status_code == 429
        assert sum(services.store.count_by_status().values()) == 3  # refused: not stored
        # Health, metrics and static files are not counted nor refused.
        assert client.get("/healthz").status_code in (200, 503)
        assert client.get("/metrics").status_code == 200
        assert client.get("/static/app.css").status_code == 200
    finally:
        services.close()


def test_two_api_processes_share_one_limit(limited):
    first, a = build(limited)
    second, b = build(limited)  # another create_app on the same store: another process
    try:
        assert submit(a).status_code == 202
        assert submit(b).status_code == 202
        assert submit(a).status_code == 202
        assert submit(b).status_code == 429
        assert submit(a).status_code == 429
    finally:
        first.close()
        second.close()


def test_the_limit_is_per_address_with_keys_off(limited):
    services, client = build(limited.replace(trusted_proxies=1))
    try:
        for _ in range(3):
            submit(client, **{"X-Forwarded-For": "203.0.113.7"})
        assert submit(client, **{"X-Forwarded-For": "203.0.113.7"}).status_code == 429
        assert submit(client, **{"X-Forwarded-For": "198.51.100.2"}).status_code == 202
    finally:
        services.close()


def test_a_forwarded_address_is_ignored_without_a_trusted_proxy(limited):
    services, client = build(limited)
    try:
        codes = [submit(client, **{"X-Forwarded-For": f"203.0.113.{i}"}).status_code
                 for i in range(4)]
        assert codes == [202, 202, 202, 429]  # all from the connection's own address
    finally:
        services.close()


def test_the_limit_is_per_key_with_keys_on(limited):
    services, client = build(limited.replace(api_keys="on"))
    try:
        _, alice = apikeys.issue(services.store, ["submit"])
        _, bob = apikeys.issue(services.store, ["submit"])
        for _ in range(3):
            assert submit(client, Authorization=f"Bearer {alice}").status_code == 202
        assert submit(client, Authorization=f"Bearer {alice}").status_code == 429
        assert submit(client, Authorization=f"Bearer {bob}").status_code == 202
        # Requests without a valid key are counted too (per address), then refused.
        assert [client.get("/v1/models").status_code for _ in range(4)] == [401] * 3 + [429]
    finally:
        services.close()


def test_the_default_never_throttles_the_documented_benchmarks():
    """From one address: the stream benchmark offers 1,000 requests/s, wrk's intake
    ~1,000/s, the open-loop latency run 500 submissions/s plus polls, locust -u 20 a few
    hundred (loadtest/README.md, docs/BENCHMARKS.md). A minute of 1,000/s must fit."""
    (limit,) = parse_many(Settings().rate_limit)
    per_second = limit.amount / limit.get_expiry()
    assert per_second >= 1000 * 1.5, Settings().rate_limit
    assert ratelimits.limit_strings(Settings(rate_limit="off")) == []
    with pytest.raises(ValueError, match="PREDICTQ_RATE_LIMIT"):
        ratelimits.limit_strings(Settings(rate_limit="lots"))


def test_the_counters_live_beside_the_store(tmp_path):
    sqlite = Settings(data_dir=tmp_path)
    assert ratelimits.storage(sqlite) == (
        f"predictq+sqlite://{(tmp_path / 'predictq.db').resolve()}.limits", {})
    mongo = Settings(store_url="mongodb://m1:27017,m2:27017/orders?replicaSet=rs0")
    assert ratelimits.storage(mongo) == (mongo.store_url, {"database_name": "orders_limits"})
    redis = Settings(store_url=mongo.store_url, rate_limit_storage_url="redis://r:6379/0")
    assert ratelimits.storage(redis) == ("redis://r:6379/0", {})


def _bump(path: str, n: int) -> None:
    storage = SqliteLimitStorage(storage_uri(path))
    for _ in range(n):
        storage.incr("k", 60)


def test_processes_bumping_one_counter_lose_no_count(tmp_path):
    path = str(tmp_path / "x.limits")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_bump, args=(path, 300)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    storage = SqliteLimitStorage(storage_uri(path))
    assert storage.get("k") == 900
    assert 0 < storage.get_expiry("k") - time.time() <= 60
    storage.clear("k")
    assert storage.get("k") == 0


def test_a_window_that_ended_starts_again(tmp_path, monkeypatch):
    import predictq.store.sqlite_limits as mod

    storage = SqliteLimitStorage(storage_uri(tmp_path / "y.limits"))
    now = [1000.0]
    monkeypatch.setattr(mod.time, "time", lambda: now[0])
    assert [storage.incr("k", 10) for _ in range(3)] == [1, 2, 3]
    assert storage.get_expiry("k") == 1010.0
    now[0] = 1010.0
    assert storage.get("k") == 0
    assert storage.incr("k", 10) == 1 and storage.get_expiry("k") == 1020.0


def test_api_processes_on_mongodb_share_one_limit(limited):
    """limits' own MongoDB storage on the store's server: a real MongoDB only
    (PREDICTQ_TEST_MONGODB_URL). The nx-27017 wire server the store's contract runs on
    lacks the pipeline updates that storage sends (the limiter then lets requests
    through, as below)."""
    import pymongo

    from predictq.store.mongo import database_from_url
    from tests.mongo_wire import fresh_database

    server = os.environ.get("PREDICTQ_TEST_MONGODB_URL", "")
    if not server:
        pytest.skip("set PREDICTQ_TEST_MONGODB_URL to test against a real MongoDB")
    with fresh_database(server) as url:
        on_mongo = limited.replace(store_url=url)
        first, a = build(on_mongo)
        second, b = build(on_mongo)
        try:
            assert [submit(a).status_code, submit(b).status_code,
                    submit(a).status_code] == [202, 202, 202]
            assert submit(b).status_code == 429
            assert submit(a).status_code == 429
        finally:
            first.close()
            second.close()
            with pymongo.MongoClient(url, serverSelectionTimeoutMS=3000) as client:
                client.drop_database(database_from_url(url) + "_limits")


def test_a_limiter_that_cannot_count_lets_requests_through(limited, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("")  # a file where the counters' folder should be
    services, client = build(limited.replace(
        rate_limit_storage_url=storage_uri(blocked / "x.limits")))
    try:
        assert [submit(client).status_code for _ in range(5)] == [202] * 5
    finally:
        services.close()
