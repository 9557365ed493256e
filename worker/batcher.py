"""The micro-batch policy: flush when the batch is full or its first message has waited
long enough. Size 1 means one by one."""

from __future__ import annotations

import time
from typing import Generic, TypeVar

T = TypeVar("T")


class MicroBatcher(Generic[T]):
    def __init__(self, size: int, wait_ms: int, clock=time.monotonic) -> None:
        if size < 1:
            raise ValueError("batch size must be at least 1")
        if wait_ms < 0:
            raise ValueError("batch wait must not be negative")
        self.size = size
        self.wait_s = wait_ms / 1000
        self._clock = clock
        self._items: list[T] = []
        self._first_at = 0.0

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item: T) -> None:
        if not self._items:
            self._first_at = self._clock()
        self._items.append(item)

    def due(self) -> bool:
        if not self._items:
            return False
        return len(self._items) >= self.size or self._clock() - self._first_at >= self.wait_s

    def time_left(self, idle: float) -> float:
        """How long the consumer may block waiting for more: `idle` when empty."""
        if not self._items:
            return idle
        return max(0.0, self.wait_s - (self._clock() - self._first_at))

    def take(self) -> list[T]:
        items, self._items = self._items, []
        return items
