"""Shared fixtures: a language model trained once per session, and per test a fresh data
folder, store, in-memory broker and app (Flask's tutorial pattern); a MongoDB
wire-protocol server (nx-27017) started once per session for the tests that use it."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kombu import Connection

from api.app import create_app
from models.artifacts import Manifest
from models.registry import get_spec
from predictq.messaging import exchange
from predictq.services import Services
from predictq.settings import Settings
from predictq.topology import all_queues
from tests.mongo_wire import fresh_database, start_or_skip
from worker.factory import create_worker

AMQP_URL = os.environ.get("PREDICTQ_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


@dataclass(frozen=True)
class Trained:
    model_dir: Path
    manifest: Manifest
    progress: list[tuple[str, int, int]]


@pytest.fixture(scope="session")
def trained_language(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """The real `language` model, trained once per session (about 20 s)."""
    model_dir = tmp_path_factory.mktemp("models")
    calls: list[tuple[str, int, int]] = []
    manifest = get_spec("language").train(model_dir, lambda *call: calls.append(call))
    return Trained(model_dir=model_dir, manifest=manifest, progress=calls)


@pytest.fixture(scope="session")
def model_dir(trained_language: Trained) -> Path:
    return trained_language.model_dir


@pytest.fixture
def settings(tmp_path: Path, model_dir: Path) -> Settings:
    # memory:// is kombu's in-process transport; a unique prefix keeps tests apart.
    return Settings(data_dir=tmp_path, broker_url="memory://", model_dir=model_dir,
                    queue_prefix=f"t{uuid.uuid4().hex[:10]}")


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    services = Services.build(settings)
    yield services
    services.close()


@pytest.fixture
def client(services: Services):
    return create_app(services=services).test_client()


def drain(settings: Settings, expected: int, timeout: float = 30.0, **worker_kwargs) -> int:
    """Run a worker in a thread until it has processed `expected` messages."""
    worker = create_worker(settings, **worker_kwargs)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while worker.processed < expected and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop_event.set()
    thread.join(10)
    return worker.processed


def rabbitmq_available() -> bool:
    try:
        with Connection(AMQP_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


@pytest.fixture
def amqp_settings(settings: Settings) -> Iterator[Settings]:
    """Settings on the local RabbitMQ with queues of their own, deleted afterwards.

    Without a broker the test is skipped, unless PREDICTQ_REQUIRE_RABBITMQ=1 (as in CI),
    where a missing broker is a failure.
    """
    if not rabbitmq_available():
        if os.environ.get("PREDICTQ_REQUIRE_RABBITMQ") == "1":
            pytest.fail(f"RabbitMQ is required (PREDICTQ_REQUIRE_RABBITMQ=1) but "
                        f"{AMQP_URL} is unreachable")
        pytest.skip(f"no RabbitMQ at {AMQP_URL}")
    amqp = settings.replace(broker_url=AMQP_URL)
    yield amqp
    with Connection(AMQP_URL) as conn:
        channel = conn.channel()
        for queue in all_queues(amqp):
            channel.queue_delete(queue.name)
        exchange(amqp)(channel).delete()


@pytest.fixture(scope="session")
def mongo_wire_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL (no database) of an nx-27017 wire-protocol server on a free port, started
    on first use and stopped when the session ends.

    If it cannot start, the tests that need it are skipped, unless
    PREDICTQ_REQUIRE_MONGO_WIRE=1 (as in CI), where that is a failure.
    """
    server = start_or_skip(tmp_path_factory.mktemp("mongo-wire"))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def mongowire_url(mongo_wire_server: str) -> Iterator[str]:
    """A URL naming a fresh database on the session's wire server, dropped afterwards."""
    with fresh_database(mongo_wire_server) as url:
        yield url
