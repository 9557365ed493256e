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


def _feature_table() -> dict[int, str]:
    """Every character that is not a letter, a combining mark, an apostrophe or a hyphen
    maps to a space."""
    keep = {"'", "-"}
    table: dict[int, str] = {}
    for code in range(0x10000):
        char = chr(code)
        if char not in keep and not unicodedata.category(char).startswith(("L", "M")):
            table[code] = " "
    table[ord("\u2019")] = "'"  # the typographic apostrophe is an apostrophe
    return table


_FEATURE_TABLE = _feature_table()


def for_features(text: str) -> str:
    """The text as the classifier sees it: letters, marks, apostrophes and hyphens only.

    Punctuation and digits say little about the language but a lot about the source
    (news ends in ".", Tatoeba asks questions), and naive Bayes happily learned that
    "?" means "not Indonesian" from an Indonesian corpus without questions. Apostrophes
    and hyphens stay: they are part of words (l'homme, anak-anak, nakit'an).
    """
    return _SPACE.sub(" ", text.translate(_FEATURE_TABLE)).strip()
