"""Whether a model can be served at all, as the API process can tell.

The API refuses a submission for a model with no artifact (503 `model_unavailable`)
instead of accepting a job no worker will ever answer. It decides from the artifact
folder it sees itself (`PREDICTQ_MODEL_DIR`): the honest answer on one host, and in the
compose deployment, where the API mounts the workers' model volume read-only. Where the
API runs on a host without the workers' artifacts, give it the same folder (read-only
is enough); otherwise it refuses everything. What the workers report (`presence`, on
the embedded transport) is added to /healthz and /v1/queue, not used to refuse: a
worker that cannot load a model leaves its messages queued for one that can.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from models.artifacts import available

# The check reads a manifest from disk; the hot submission path pays it at most once
# per model per second, and a model trained meanwhile is accepted within that.
TTL_S = 1.0


class ArtifactCheck:
    def __init__(self, model_dir: Path, ttl_s: float = TTL_S) -> None:
        self.model_dir = Path(model_dir)
        self.ttl_s = ttl_s
        self._known: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def problem(self, name: str) -> str | None:
        """None when `name` has a current artifact here; otherwise what is missing."""
        now = time.monotonic()
        known = self._known.get(name)
        if known is not None and now - known[0] < self.ttl_s:
            return known[1]
        problem = (None if available(self.model_dir, name) else
                   f"model {name!r} has no artifact in {self.model_dir} on this host; "
                   f"no worker can answer it (run `predictq train {name}`)")
        with self._lock:
            self._known[name] = (now, problem)
        return problem
