"""The undetermined answer: a text without a single letter has no language to find.

The classifier answers whatever it is given, and for digits, punctuation or emoji it
used to name a language anyway ("😀😀😀" → zh, "12345 678" → he: issue 13). Such a text
now gets ISO 639-2's code for "undetermined", with confidence 0.0: the contract's
`confidence` stays a number from 0 to 1, and 0 says that no language was found rather
than that `und` is a guess.

The rule: a text is undetermined when none of its characters is a Unicode letter
(general category L: Lu, Ll, Lt, Lm, Lo — Python's `str.isalpha`). Han, kana, Hangul and
Thai characters are letters (Lo), so CJK and Thai texts are never undetermined; digits,
punctuation, symbols, emoji, whitespace and lone combining marks are not letters. One
letter of any script is enough for the classifier to answer as before, so no prediction
for a text with letters changes. `und` is an answer, never a label feedback may give
(the registry's labels are the languages).
"""

from __future__ import annotations

from typing import Any

LABEL = "und"
NAME = "Undetermined"
CONFIDENCE = 0.0

# The model card's section (card.py renders it, so regeneration keeps it).
CARD_SECTION = (
    "## Texts without letters",
    "",
    f"A text with no Unicode letter at all (general category L; digits, punctuation, "
    f"symbols, emoji and whitespace are not letters, Han, kana, Hangul and Thai are) gets "
    f'`{{"label": "{LABEL}", "name": "{NAME}", "confidence": {CONFIDENCE}}}` (ISO 639-2 '
    f"`{LABEL}`) instead of a guess. One letter of any script is enough to be classified "
    "as before, so none of the figures on this card change; `und` is never a feedback "
    "label. See `models/language/undetermined.py`.",
    "",
)


def has_letters(text: str) -> bool:
    # map() keeps the scan in C; it stops at the first letter, the first character of
    # almost every real text.
    return any(map(str.isalpha, text))


def result() -> dict[str, Any]:
    return {"label": LABEL, "name": NAME, "confidence": CONFIDENCE}
