"""API keys in the MongoDB store (predictq.store.keys for the record): collection
`api_keys`, `_id` = key id, with a unique index on `key_hash`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from predictq.store.keys import ApiKey, KeyStore
from predictq.store.mongo import _translated

if TYPE_CHECKING:
    from predictq.store.mongo import MongoStore


class MongoKeys(KeyStore):
    def __init__(self, store: MongoStore) -> None:
        self._store = store
        self._indexed = False

    @property
    def _keys(self) -> Collection:
        keys = self._store.database["api_keys"]  # reconnects after a fork
        if not self._indexed:
            keys.create_index([("key_hash", ASCENDING)], unique=True)
            keys.create_index([("created_at", ASCENDING)])
            self._indexed = True
        return keys

    @_translated()
    def add(self, key: ApiKey) -> None:
        try:
            self._keys.insert_one({
                "_id": key.key_id, "key_hash": key.key_hash, "scopes": list(key.scopes),
                "name": key.name, "prefix": key.prefix, "created_at": key.created_at,
                "revoked_at": key.revoked_at})
        except DuplicateKeyError as exc:
            raise ValueError(f"an API key with this id or secret exists: {exc}") from exc

    @_translated()
    def by_hash(self, key_hash: str) -> ApiKey | None:
        doc = self._keys.find_one({"key_hash": key_hash})
        return None if doc is None else _to_key(doc)

    @_translated()
    def get(self, key_id: str) -> ApiKey | None:
        doc = self._keys.find_one({"_id": key_id})
        return None if doc is None else _to_key(doc)

    @_translated()
    def list(self) -> list[ApiKey]:
        docs = self._keys.find().sort([("created_at", ASCENDING), ("_id", ASCENDING)])
        return [_to_key(doc) for doc in docs]

    @_translated()
    def revoke(self, key_id: str, at: float) -> bool:
        self._keys.update_one({"_id": key_id, "revoked_at": None},
                              {"$set": {"revoked_at": at}})
        return self._keys.count_documents({"_id": key_id}, limit=1) > 0


def _to_key(doc: dict[str, Any]) -> ApiKey:
    return ApiKey(key_id=doc["_id"], key_hash=doc["key_hash"], scopes=tuple(doc["scopes"]),
                  name=doc.get("name", ""), prefix=doc.get("prefix", ""),
                  created_at=doc["created_at"], revoked_at=doc.get("revoked_at"))
