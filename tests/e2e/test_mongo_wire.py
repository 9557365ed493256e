"""The API and workers as real processes on RabbitMQ with their store on the MongoDB
wire-protocol server (nx-27017, tests/mongo_wire.py): submissions reach `done`, and the
reduced chaos run (loadtest/chaos.py) loses nothing with MongoDB as the store."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from loadtest import chaos, harness
from predictq.jobs import Status
from predictq.settings import Settings
from predictq.store import open_store
from tests.chaos_report import assert_nothing_lost, require_rabbitmqctl
from tests.conftest import AMQP_URL

pytestmark = [pytest.mark.e2e, pytest.mark.rabbitmq, pytest.mark.slow]

# chaos.TEXTS, by language: the language model's labels for them.
EXPECTED = ["sv", "de", "es", "ru", "ja", "ar"]


def post(url: str, body: dict, headers: dict[str, str] | None = None) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
        return json.load(response)


def test_submissions_reach_done_with_the_store_on_the_wire_server(
    amqp_settings: Settings, mongowire_url: str, model_dir: Path, tmp_path: Path,
) -> None:
    prefix = amqp_settings.queue_prefix
    port = harness.free_port()
    env = harness.child_env(tmp_path / "var", prefix=prefix, model_dir=model_dir,
                            broker_url=AMQP_URL, port=port, api_workers="2",
                            store_url=mongowire_url)
    base = f"http://127.0.0.1:{port}"
    with harness.Processes(tmp_path / "logs") as procs:
        procs.spawn("api", ["api"], env)
        procs.spawn("worker", ["worker", "--family", "text"], env)
        harness.wait_api(base, procs, 2)
        harness.wait_consumers(base, prefix, 1, procs)

        texts = [chaos.TEXTS[i % len(chaos.TEXTS)] for i in range(120)]
        batch = post(base + "/v1/predictions/batch",
                     {"model": "language", "inputs": [{"text": t} for t in texts]})
        ids = list(batch["tracking_ids"])
        keyed = []
        for i, text in enumerate(chaos.TEXTS):  # through the idempotency collection
            body = {"model": "language", "input": {"text": text}}
            first = post(base + "/v1/predictions", body, {"Idempotency-Key": f"k{i}"})
            again = post(base + "/v1/predictions", body, {"Idempotency-Key": f"k{i}"})
            assert again["tracking_id"] == first["tracking_id"]
            keyed.append(first["tracking_id"])
        ids += keyed
        texts += chaos.TEXTS
        assert len(set(ids)) == len(ids) == 126

        records: dict[str, dict] = {}
        deadline = time.monotonic() + 60
        while len(records) < len(ids) and time.monotonic() < deadline:
            procs.check_alive()
            for tid in ids:
                if tid not in records:
                    record = harness.get_json(f"{base}/v1/predictions/{tid}")
                    if record["status"] in ("done", "failed"):
                        records[tid] = record
            time.sleep(0.2)

    assert len(records) == len(ids), f"{len(ids) - len(records)} not final after 60 s"
    assert {r["status"] for r in records.values()} == {"done"}
    labels = [records[tid]["result"]["label"] for tid in ids]
    assert labels == [EXPECTED[chaos.TEXTS.index(t)] for t in texts]
    assert all(r["model_version"] for r in records.values())
    # The records live on the wire server, not in a SQLite file of the data folder.
    with open_store(mongowire_url) as store:
        assert store.count_by_status()[Status.DONE] == len(ids)
    assert not (tmp_path / "var" / "predictq.db").exists()


def test_the_reduced_chaos_run_loses_nothing_on_the_wire_server(
    amqp_settings: Settings, mongowire_url: str, model_dir: Path,
) -> None:
    require_rabbitmqctl()
    # tests/integration/test_chaos.py's run and assertions, with MongoDB as the store.
    report = chaos.run(total=400, rate=25, store_url=mongowire_url, model_dir=model_dir)
    assert_nothing_lost(report)
