"""The one text normalisation shared by corpus building, training and prediction.

Training and prediction must see text the same way, or the model learns n-grams that
never occur at prediction time (e.g. decomposed accents from a macOS keyboard).
"""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """NFC-compose, collapse every run of whitespace to one space, strip the ends."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()
