"""API keys as stored: who may call the API and with which scopes (predictq.apikeys
makes and checks them).

Every backend reaches it as `store.keys` and passes tests/store/test_keys.py. Only a
SHA-256 of each secret is kept: the secret itself is printed once, when the key is
made, and cannot be recovered from the store.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ApiKey:
    key_id: str  # public, short: what `predictq keys list` shows and jobs record as owner
    key_hash: str  # hex SHA-256 of the secret; unique
    scopes: tuple[str, ...]
    name: str = ""
    prefix: str = ""  # the secret's first characters, to recognise it in a list
    created_at: float = 0.0
    revoked_at: float | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_public(self) -> dict[str, Any]:
        """Everything but the hash."""
        return {"key_id": self.key_id, "name": self.name, "scopes": list(self.scopes),
                "prefix": self.prefix, "created_at": self.created_at,
                "revoked_at": self.revoked_at}


class KeyStore(ABC):
    @abstractmethod
    def add(self, key: ApiKey) -> None:
        """Store a new key; a `key_id` or `key_hash` already stored raises ValueError."""

    @abstractmethod
    def by_hash(self, key_hash: str) -> ApiKey | None:
        """The key (revoked or not) whose secret hashes to `key_hash`, or None."""

    @abstractmethod
    def get(self, key_id: str) -> ApiKey | None:
        """The key with this id, or None."""

    @abstractmethod
    def list(self) -> list[ApiKey]:
        """Every key, revoked ones included, oldest first."""

    @abstractmethod
    def revoke(self, key_id: str, at: float) -> bool:
        """Revoke the key from `at` on; False if there is no such key. Revoking a
        revoked key keeps its first `revoked_at` (and answers True)."""
