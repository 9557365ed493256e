"""The models a worker serves, following the store's decisions off the hot path.

`ModelServer.model(name)` is a dictionary lookup: the per-message path never touches the
disk or the store. A thread asks the store every `model_poll_ms` which versions serve and
shadow (one small read) and, when a generation changed, loads the new version — hash
verified, as every load is — and swaps it in with one assignment. Batches already
predicting finish on the version they started with and record it; nothing is failed
or requeued by a switch. A version this worker cannot load (not in its artifact folder,
or its bytes do not verify) is logged and counted, and the previous one keeps serving.

A model the store has no decision for serves its artifact folder's CURRENT version (what
`predictq train` made first): a fresh deployment needs no promotion to start.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path

from models.artifacts import current_version
from models.loading import LoadedModel
from predictq import metrics
from predictq.errors import PredictqError
from predictq.lifecycle.records import Serving
from predictq.store import Store

log = logging.getLogger(__name__)


class ModelServer:
    def __init__(self, store: Store, model_dir: Path, poll_s: float = 2.0) -> None:
        self.store = store
        self.model_dir = Path(model_dir)
        self.poll_s = poll_s
        self._served: dict[str, LoadedModel] = {}
        self._shadows: dict[str, LoadedModel] = {}
        self._seen: dict[str, int] = {}  # the generation each model was last loaded at
        self._lock = threading.Lock()  # one loader at a time; readers never take it
        self.stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the hot path -------------------------------------------------------------

    def model(self, name: str) -> LoadedModel:
        """The version serving `name` on this worker (loaded on first use).

        Raises a ModelError when the model cannot be loaded at all."""
        loaded = self._served.get(name)
        if loaded is None:
            with self._lock:
                loaded = self._served.get(name) or self._load_first(name)
        return loaded

    def shadow(self, name: str) -> LoadedModel | None:
        """The version in shadow for `name`, if one is set and loaded here."""
        return self._shadows.get(name)

    # -- following the store ------------------------------------------------------

    def preload(self, names: Iterable[str]) -> None:
        """Load `names` now, so the first message of each does not wait for it."""
        for name in names:
            loaded = self.model(name)
            log.info("serving model %s %s", loaded.name, loaded.version)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._follow, name="model-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _follow(self) -> None:
        while not self.stop_event.wait(self.poll_s):
            try:
                self.refresh()
            except PredictqError as exc:  # the store is down: keep serving what we have
                log.info("cannot read model decisions (%s); serving what is loaded", exc)
            except Exception:
                log.exception("following model decisions failed; serving what is loaded")

    def refresh(self) -> None:
        """Apply the store's current decisions to the models this worker has loaded."""
        decisions = self.store.models.serving()
        with self._lock:
            for name in list(self._served):
                decision = decisions.get(name)
                if decision is not None and self._seen.get(name) != decision.generation:
                    self._follow_decision(name, decision)

    def _load_first(self, name: str) -> LoadedModel:
        decision = self.store.models.serving().get(name)
        version = (decision.version if decision is not None and decision.version else
                   current_version(self.model_dir, name))
        self._served[name] = LoadedModel.load(self.model_dir, name, version)
        if decision is None:
            self._seen[name] = 0
        else:
            self._follow_decision(name, decision)  # its shadow, if any
        return self._served[name]

    def _follow_decision(self, name: str, decision: Serving) -> None:
        served = self._served[name]
        ok = True
        if decision.version is not None and decision.version != served.version:
            loaded = self._try_load(name, decision.version, "serve")
            if loaded is None:
                ok = False
            else:
                self._served[name] = loaded
                log.info("model %s: now serving %s (was %s)", name, loaded.version,
                         served.version)
                metrics.MODEL_RELOADS.labels(name, "serve").inc()
        shadow = self._shadows.get(name)
        if decision.shadow is None:
            if shadow is not None:
                log.info("model %s: shadow %s stopped", name, shadow.version)
                del self._shadows[name]
        elif shadow is None or shadow.version != decision.shadow:
            loaded = self._try_load(name, decision.shadow, "shadow")
            if loaded is None:
                ok = False
            else:
                self._shadows[name] = loaded
                log.info("model %s: shadowing %s", name, loaded.version)
                metrics.MODEL_RELOADS.labels(name, "shadow").inc()
        if ok:  # a failed load is tried again at the next poll
            self._seen[name] = decision.generation

    def _try_load(self, name: str, version: str, role: str) -> LoadedModel | None:
        for loaded in (self._served.get(name), self._shadows.get(name)):
            if loaded is not None and loaded.version == version:
                return loaded
        try:
            return LoadedModel.load(self.model_dir, name, version)
        except Exception as exc:
            log.error("model %s: cannot load version %s to %s it (%s); keeping %s", name,
                      version, role, exc, self._served[name].version)
            metrics.MODEL_RELOADS.labels(name, "failed").inc()
            return None
