"""Which models this worker can serve, and so which queues it may consume.

A worker started where a model's artifact is missing (or does not verify) used to take
that model's messages and fail every one: 10,500 accepted jobs turned `failed` in
seconds in one run (issue 13). Now a worker consumes a family's queue only if it can
load at least one of the family's models, and hands back, uncounted, a message for a
model of that family it cannot load (worker.consumer): the message waits in the queue
for a worker that can. It says so once, at ERROR, per model and cause — not per message
— and again at INFO when the model becomes servable (an artifact trained after the
worker started is noticed at the next check, and its queue consumed from then on).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from models.registry import REGISTRY
from predictq.lifecycle.serving import ModelServer

log = logging.getLogger(__name__)


class ServableModels:
    def __init__(self, server: ModelServer, families: Sequence[str]) -> None:
        self.server = server
        self.families = tuple(families)
        self.models = {spec.name: spec.family for spec in REGISTRY.values()
                       if spec.family in self.families}
        self.servable: set[str] = set()
        self.unavailable: dict[str, str] = {}  # model -> why this worker cannot load it

    def check(self) -> bool:
        """Try to load every model not yet servable; True when the families to consume
        changed (the consumer then subscribes again)."""
        before = self.consumed
        for name in self.models:
            if name in self.servable:
                continue  # loaded once, the server keeps it (and follows promotions)
            try:
                loaded = self.server.model(name)
            except Exception as exc:  # absent, unverifiable, or the store unreachable
                reason = f"{type(exc).__name__}: {exc}"
                if self.unavailable.get(name) != reason:
                    log.error("model %r cannot be served by this worker (%s); its messages "
                              "are left in the queue for workers that can", name, reason)
                self.unavailable[name] = reason
                continue
            if name in self.unavailable:
                log.info("model %r is servable now (%s)", name, loaded.version)
                del self.unavailable[name]
            else:
                log.info("serving model %s %s", name, loaded.version)
            self.servable.add(name)
        return self.consumed != before

    @property
    def consumed(self) -> tuple[str, ...]:
        """The families with at least one servable model, in the order given."""
        return tuple(f for f in self.families
                     if any(self.models[n] == f for n in self.servable))

    def can_serve(self, name: str) -> bool:
        return name in self.servable
