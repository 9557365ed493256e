"""Which writing system a text is in, and so which classes it cannot belong to.

A Greek text cannot be Swedish, whatever its n-grams say. Ruling out classes by script is
exact (the check is on Unicode blocks, not statistics), it lifts accuracy on short texts
and it makes confidences honest: when a script belongs to one label only (Hangul,
Greek, Thai, ...) that label is certain.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

# Unicode ranges of the scripts our classes use. Anything else (digits, punctuation,
# emoji, scripts no class uses) is not counted.
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x005A, "Latin"),
    (0x0061, 0x007A, "Latin"),
    (0x00C0, 0x024F, "Latin"),  # Latin-1 letters, Extended-A and -B
    (0x1E00, 0x1EFF, "Latin"),  # Latin Extended Additional (Vietnamese)
    (0x0370, 0x03FF, "Greek"),
    (0x1F00, 0x1FFF, "Greek"),
    (0x0400, 0x052F, "Cyrillic"),
    (0x0530, 0x058F, "Armenian"),
    (0x0590, 0x05FF, "Hebrew"),
    (0x0600, 0x06FF, "Arabic"),
    (0x0750, 0x077F, "Arabic"),
    (0xFB50, 0xFDFF, "Arabic"),
    (0xFE70, 0xFEFF, "Arabic"),
    (0x0900, 0x097F, "Devanagari"),
    (0x0980, 0x09FF, "Bengali"),
    (0x0B80, 0x0BFF, "Tamil"),
    (0x0E00, 0x0E7F, "Thai"),
    (0x10A0, 0x10FF, "Georgian"),
    (0x1200, 0x139F, "Ethiopic"),
    (0x1100, 0x11FF, "Hangul"),
    (0x3130, 0x318F, "Hangul"),
    (0xAC00, 0xD7AF, "Hangul"),
    (0x3040, 0x30FF, "Kana"),  # hiragana and katakana
    (0x31F0, 0x31FF, "Kana"),
    (0xFF66, 0xFF9F, "Kana"),  # half-width katakana
    (0x3400, 0x4DBF, "Han"),
    (0x4E00, 0x9FFF, "Han"),
    (0xF900, 0xFAFF, "Han"),
)

# A non-Latin script decides when it has at least this share of the letters: brand
# names and acronyms in Latin letters are common inside Japanese, Russian or Arabic
# sentences, the reverse is rare.
NON_LATIN_SHARE = 0.3

# Kana (hiragana, katakana) is written by Japanese only, and a Japanese sentence cannot
# do without it (particles, endings), while product names, placeholders and markup in
# Latin letters are common inside it: "{count}件のファイルを削除しますか？",
# "Wi-Fiに接続できません", "Django%(version)sの<a href=...>リリースノート</a>". So a text
# with any kana is Japanese unless it is mostly another script's words, which here means
# precisely: its kana + kanji are fewer than KANA_SHARE of its letters, or fewer than the
# letters of some other non-Latin script (Hangul, Cyrillic, ...). A kana or kanji
# character carries about a syllable or a morpheme, several Latin letters' worth; at 10%
# the Latin part is more than 9 letters per Japanese character: an English sentence
# quoting one Japanese word ("In Tokyo we said ありがとう to everyone who helped us all
# the way home", 9%). The price: a short English string around a Japanese word ("The word for
# thank you is ありがとう", 20%) counts as Japanese. Django 5.2.8's Japanese
# catalogue (real UI strings with placeholders and markup) goes as low as 11%.
KANA_SHARE = 0.1

# Han characters (kanji, hanzi) are written by Chinese and Japanese only (and Korean,
# next to Hangul), and carry as much as kana does, so a Han text follows the same share
# rule: "PostgreSQL拡張" (2 of 12 letters) is not Latin. And Japanese has never written
# the simplified forms mainland Chinese introduced (码, 请, 欢): no Japanese character
# set encodes them (JIS X 0208/0212, Windows' cp932 extensions), so a Han character
# outside all of them counts as the script "Hanzi", which only Chinese uses. Measured on
# the training sentences: 0 of 1,073 Japanese ones hold such a character, 848 of 1,132
# Chinese ones do (every simplified one). The reverse rule (Japanese-only shinjitai such
# as 拡, 権) is not made: 26 Chinese sentences hold characters GB2312 and Big5 lack.
_JAPANESE_CODECS = ("cp932", "euc_jp")


def _written_in_japanese(chars: str) -> set[str]:
    """The characters of `chars` some Japanese character set encodes. One round trip
    per codec: an unencodable character comes back as "?" (a character per character
    for these codecs), and per-character encoding with exceptions took five times as
    long at import."""
    found = set()
    for codec in _JAPANESE_CODECS:
        back = chars.encode(codec, "replace").decode(codec)
        found.update(a for a, b in zip(chars, back, strict=True) if a == b)
    return found


def _tables() -> tuple[dict[int, str | None], dict[str, str]]:
    """A str.translate table that turns each letter of a known script into one code
    character and deletes everything else, and the code -> script name map. Counting the
    translated string is C speed; a Python loop over characters was a fifth of the
    model's prediction time."""
    names = sorted({script for _, _, script in _RANGES} | {"Hanzi"})
    code_of = {name: chr(0x41 + i) for i, name in enumerate(names)}
    table: dict[int, str | None] = {}
    for code in range(0x10000):
        table[code] = None
    han = "".join(chr(c) for low, high, s in _RANGES if s == "Han" for c in range(low, high + 1))
    japanese = _written_in_japanese(han)
    for low, high, script in _RANGES:
        for code in range(low, high + 1):
            char = chr(code)
            if char.isalpha():
                chinese_only = script == "Han" and char not in japanese
                table[code] = code_of["Hanzi" if chinese_only else script]
    return table, {c: name for name, c in code_of.items()}


_TABLE, _NAMES = _tables()


def script_counts(text: str) -> Counter[str]:
    """How many letters of each known script the text has."""
    found = Counter(text.translate(_TABLE))
    return Counter({_NAMES[c]: n for c, n in found.items() if c in _NAMES})


def dominant_scripts(text: str) -> frozenset[str]:
    """The script(s) a text is written in; empty when it has no letters we know.

    Any kana means Japanese (nobody else writes it), so such a text counts as {"Kana"}
    unless it is mostly another script's words (KANA_SHARE); Han without kana or Hangul
    follows the same share rule and counts as {"Hanzi"} (Chinese) if it holds a character
    Japanese does not write, else {"Han"} (Chinese or Japanese).
    """
    counts = script_counts(text)
    total = sum(counts.values())
    if not total:
        return frozenset()
    if counts["Kana"] and _mostly_cjk(counts, total):
        return frozenset({"Kana"})
    han = counts["Han"] + counts["Hanzi"]
    if han and not counts["Hangul"] and _mostly_cjk(counts, total):
        return frozenset({"Hanzi" if counts["Hanzi"] else "Han"})
    non_latin = [(n, s) for s, n in counts.items() if s != "Latin"]
    if non_latin:
        if counts["Hangul"] and counts["Hangul"] + han >= NON_LATIN_SHARE * total:
            return frozenset({"Hangul"})
        n, script = max(non_latin)
        if n >= NON_LATIN_SHARE * total:
            return frozenset({script})
    return frozenset({"Latin"}) if counts["Latin"] else frozenset()


def _mostly_cjk(counts: Counter[str], total: int) -> bool:
    cjk = counts["Kana"] + counts["Han"] + counts["Hanzi"]
    others = [n for s, n in counts.items() if s not in ("Latin", "Kana", "Han", "Hanzi")]
    return cjk >= KANA_SHARE * total and cjk >= max(others, default=0)


_CJK = frozenset({"Han", "Hanzi", "Kana"})
_LATIN_WORDS = re.compile(r"[A-Za-z\u00C0-\u024F\u1E00-\u1EFF]+")


def classifier_text(text: str, found: frozenset[str]) -> str:
    """The text the classifier sees, given the text's dominant_scripts.

    In a text the rules above call Chinese or Japanese, Latin words are names, code and
    placeholders ("Python環境設定", "PostgreSQL拡張"): no evidence between the two, yet
    Chinese news, which quotes more Latin words, made them a strong vote for Chinese
    ("Python環境設定" was Chinese at 0.95). So they are left out there, as the rules
    already leave them out of deciding the script.
    """
    return _LATIN_WORDS.sub(" ", text) if found & _CJK else text


def allowed_mask(
    texts: Iterable[str], classes: Sequence[str], scripts: dict[str, frozenset[str]]
) -> np.ndarray:
    """Boolean (n_texts, n_classes): True where the class is written in the text's script.

    A row is all True when the text has no letters of a known script (digits, emoji):
    then the classifier alone decides.
    """
    return mask_of([dominant_scripts(text) for text in texts], classes, scripts)


def mask_of(
    found_scripts: Iterable[frozenset[str]],
    classes: Sequence[str],
    scripts: dict[str, frozenset[str]],
) -> np.ndarray:
    """allowed_mask from each text's dominant_scripts, already computed."""
    everything = np.ones(len(classes), dtype=bool)
    row_of: dict[frozenset[str], np.ndarray] = {}  # a handful of distinct script sets
    rows = []
    for found in found_scripts:
        row = row_of.get(found)
        if row is None:
            row = np.array([bool(found & scripts.get(c, frozenset())) for c in classes])
            row = row if row.any() else everything
            row_of[found] = row
        rows.append(row)
    if not rows:
        return np.zeros((0, len(classes)), dtype=bool)
    return np.vstack(rows)
