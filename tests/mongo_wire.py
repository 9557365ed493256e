"""nx-27017, a MongoDB wire-protocol server over SQLite (a dev dependency), run as a
child process so that the MongoDB store is tested through pymongo's real client path:
sockets, BSON, server errors, cursors, connection pools.

It is a stand-in, not MongoDB: it takes one lock per database around every command (so
any single command is atomic, even a multi-document one), accepts and ignores every
write concern, and reports itself as a standalone server (so pymongo never retries a
write). docs/RELIABILITY.md lists what it proves and what it cannot.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

REQUIRE_ENV = "PREDICTQ_REQUIRE_MONGO_WIRE"


class WireServerError(RuntimeError):
    """The server could not be started (not installed, died, or never answered)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WireServer:
    """One `nx-27017 --data-dir memory` process on 127.0.0.1; every logical database
    is a separate in-memory SQLite database, gone when the process ends."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = workdir / f"nx-27017-{self.port}.out"

    @property
    def url(self) -> str:
        """The server's URL, without a database."""
        return f"mongodb://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> WireServer:
        """Start the server and return once pymongo can ping it; raise WireServerError
        (with the server's output) if it cannot be started."""
        if importlib.util.find_spec("nx_27017") is None:
            raise WireServerError("nx-27017 is not installed (pip install -e '.[dev]')")
        self.workdir.mkdir(parents=True, exist_ok=True)
        # Its own pid and log files: the defaults (/tmp/nx_27017.*) are shared, and a
        # pid file left by another run makes the server refuse to start.
        args = [sys.executable, "-m", "nx_27017.nx_27017", "--data-dir", "memory",
                "--host", "127.0.0.1", "-p", str(self.port),
                "--pid-file", str(self.workdir / f"nx-27017-{self.port}.pid"),
                "--log-file", str(self.workdir / f"nx-27017-{self.port}.log")]
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            self._wait_ready(timeout)
        except WireServerError:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        import pymongo
        from pymongo.errors import PyMongoError

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise WireServerError(f"nx-27017 exited with {self.proc.returncode}:\n"
                                      + self.output())
            try:
                with pymongo.MongoClient(self.url, serverSelectionTimeoutMS=500,
                                         connectTimeoutMS=500) as client:
                    client.admin.command("ping")
                return
            except PyMongoError as exc:
                last = exc
                time.sleep(0.1)
        raise WireServerError(f"nx-27017 did not answer a ping within {timeout:.0f} s "
                              f"({last}):\n" + self.output())

    def output(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)

    def __enter__(self) -> WireServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_or_skip(workdir: Path, port: int | None = None) -> WireServer:
    """A started server, trying three free ports (another process may take one before
    the server binds it). If none starts, skip the test, or fail it when
    PREDICTQ_REQUIRE_MONGO_WIRE=1 (as in CI, `.ci/run`)."""
    errors: list[str] = []
    for _ in range(1 if port else 3):
        try:
            return WireServer(workdir, port).start()
        except WireServerError as exc:
            errors.append(str(exc))
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"the MongoDB wire server is required ({REQUIRE_ENV}=1) but could "
                    f"not be started: {errors[-1]}")
    pytest.skip("the MongoDB wire server (nx-27017) could not be started: "
                + errors[-1].splitlines()[0])


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name`, still authenticating where it did before
    (the path's database is also the default authSource)."""
    parts = urlsplit(url)
    query = parts.query
    if "@" in parts.netloc and "authsource=" not in query.lower():
        source = parts.path.strip("/") or "admin"
        query = f"{query}&authSource={source}" if query else f"authSource={source}"
    return urlunsplit(parts._replace(path="/" + name, query=query))


@contextlib.contextmanager
def fresh_database(server_url: str, tag: str = "test") -> Iterator[str]:
    """A URL naming a database of its own on the server at `server_url` (a real
    MongoDB or the wire server), dropped afterwards."""
    import pymongo

    name = f"predictq_{tag}_{uuid.uuid4().hex[:12]}"
    try:
        yield with_database(server_url, name)
    finally:
        with pymongo.MongoClient(server_url, serverSelectionTimeoutMS=3000) as client:
            client.drop_database(name)
