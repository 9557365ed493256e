"""JSON text for what the stores keep as JSON, through orjson.

A stream worker writes every sensor's checkpoint (about 20 KB, mostly floats) on every
pass; the standard library's encoder spent more time on it than the detectors did
(measured in docs/BENCHMARKS.md, "Sensor streams"). orjson prints the same shortest
round-tripping floats, so a value reads back exactly as it was written either way.
"""

from __future__ import annotations

from typing import Any

import orjson


def dumps(value: Any) -> str:
    """Compact JSON, keys made strings as the standard library does; raises TypeError
    for what JSON cannot hold."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def loads(text: str | bytes) -> Any:
    return orjson.loads(text)
