"""Build the committed CLDR phrase file from pinned npm packages.

    python -m models.language.cldr build

packs four packages of the Unicode Common Locale Data Repository (CLDR 48.2) with npm,
checks each tarball against its pinned `dist.integrity`, and writes data/cldr.jsonl.gz:
short phrases that CLDR's translators wrote for each locale, as `{"lang", "text"}` lines:

- emoji names and keywords ("nasmiješeno lice", "strelica prema dolje"; annotations),
- names of months, weekdays, quarters, times of day and eras (dates, gregorian),
- relative date phrases ("prošle godine", "za {0} dana"; dates, dateFields),
- names of languages and countries (localenames),
- unit names and their counted forms ("{0} kilometara na sat"; units, long form).

Why: everyday vocabulary in each language's own standard, written separately for each
locale. In particular CLDR writes Serbian (`sr`, `sr-Latn`: ekavian, "mleko", "nedelja",
"sledeće") and Croatian (`hr`: ijekavian, "mlijeko", "nedjelja", "sljedeće") as two
locales, where wordfreq has one Serbo-Croatian list for both, and it writes Bokmål,
Danish, Indonesian and Malay apart too. Placeholders (`{0}`) and digits are removed.
Phrases, not sentences: training gives them a fixed share of each class's mass
(train.py). CLDR has no Waray locale. Licence: Unicode License v3 (permissive,
redistribution allowed with the notice). See data/PROVENANCE.md.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from models.language.corpus import npm_pack, write
from models.language.text import normalise

DATA_FILE = Path(__file__).parent / "data" / "cldr.jsonl.gz"
VERSION = "48.2.0"
PACKAGES = {
    "cldr-annotations-full": "sha512-DV7A+rEcgUSNTRsVGNGqBZRmAkGfwhGHO5Q1dRwzBoBnVrHWp804JP7/QJdEc66iHmx3+zLWVIMCFLm0lW7PUQ==",  # noqa: E501
    "cldr-dates-full": "sha512-zMrKvjMO414HDftLr6vKH1fNQHakFNe+F1h4S0eg+zmL4WRi9pI41fxB3UrTJDY42MEM87jCuAw/qlqCgYKcAQ==",  # noqa: E501
    "cldr-localenames-full": "sha512-4o0paYDz0UXhfhChAVFkmVl2CP0YTSEqE6WrC0fNafaSC5u5DAXphxH3SZ1Ujczarikr8DToKZfiok6EqWLdNQ==",  # noqa: E501
    "cldr-units-full": "sha512-BjDC7V46eeXzgalnIumrJ1XQDk8wJaOxNLME4hmkBT9Q0hnzxn3XgtavigPUwnljk7FxlNQW9Wx+hbFrARPrQg==",  # noqa: E501
}

# Our label -> the CLDR locales whose text it gets. Serbian's two script classes are
# told apart by dataset.serbian_class, so both locales go to "sr". Bokmål is "no" in
# the annotations and "nb" elsewhere; whichever exists is read. Waray has no locale.
LOCALES: dict[str, tuple[str, ...]] = {
    "nb": ("nb", "no"),
    "sr": ("sr", "sr-Latn"),
    "zh": ("zh", "zh-Hant"),
}

# (package, file inside main/<locale>/ or annotations/<locale>/, subtrees kept)
_FILES: tuple[tuple[str, str, tuple[tuple[str, ...], ...]], ...] = (
    ("cldr-annotations-full", "annotations/{loc}/annotations.json", (("annotations",),)),
    (
        "cldr-dates-full",
        "main/{loc}/ca-gregorian.json",
        tuple(
            ("dates", "calendars", "gregorian", part)
            for part in ("months", "days", "quarters", "dayPeriods", "eras")
        ),
    ),
    ("cldr-dates-full", "main/{loc}/dateFields.json", (("dates", "fields"),)),
    ("cldr-localenames-full", "main/{loc}/languages.json", (("localeDisplayNames",),)),
    ("cldr-localenames-full", "main/{loc}/territories.json", (("localeDisplayNames",),)),
    ("cldr-units-full", "main/{loc}/units.json", (("units", "long"),)),
)
_PLACEHOLDER = re.compile(r"\{\d\}")
_NOT_LETTER = re.compile(r"[\d\W_]+")
MIN_LETTERS = 3


def strings(node: Any) -> Iterator[str]:
    """Every string value under `node`, depth first."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def phrase(text: str) -> str:
    """A CLDR string as plain text: placeholders dropped, spacing normalised; "" if it has
    fewer than MIN_LETTERS letters (abbreviations, symbols)."""
    text = normalise(_PLACEHOLDER.sub(" ", text))
    if len(_NOT_LETTER.sub("", text)) < MIN_LETTERS:
        return ""
    return text


def _subtree(document: dict[str, Any], locale: str, path: tuple[str, ...]) -> Any:
    top = document.get("annotations") if "annotations" in document else document["main"]
    node = top if path == ("annotations",) else top.get(locale, {})
    for part in path:
        if node is None:
            return None
        node = node.get(part)
    return node


def rows(members: dict[str, dict[str, bytes]], labels: list[str]) -> list[tuple[str, str]]:
    """(label, phrase) for our labels, deduplicated within a label, in a fixed order.

    `members` maps package -> member path (below "package/") -> bytes. A phrase two
    labels share (a name like "Amazon", "Kanada") teaches nothing and is dropped."""
    out: list[tuple[str, str]] = []
    for label in labels:
        for locale in LOCALES.get(label, (label,)):
            for package, pattern, paths in _FILES:
                raw = members.get(package, {}).get(pattern.format(loc=locale))
                if raw is None:
                    continue
                document = json.loads(raw)
                for path in paths:
                    node = _subtree(document, locale, path)
                    out.extend((label, p) for p in map(phrase, strings(node)) if p)
    labels_of: dict[str, set[str]] = {}
    for label, text in out:
        labels_of.setdefault(text, set()).add(label)
    seen: set[tuple[str, str]] = set()
    kept = []
    for label, text in out:
        if len(labels_of[text]) == 1 and (label, text) not in seen:
            seen.add((label, text))
            kept.append((label, text))
    return kept


def read_members(data: bytes) -> dict[str, bytes]:
    """The JSON members of one CLDR tarball, by path below "package/"."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith(".json"):
                handle = tar.extractfile(member)
                if handle is not None:
                    out[member.name.removeprefix("package/")] = handle.read()
    return out


def load(path: Path = DATA_FILE) -> list[tuple[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [(row["lang"], row["text"]) for row in map(json.loads, lines)]


def build(path: Path = DATA_FILE) -> dict[str, int]:
    from models.language.languages import NAMES

    members = {}
    with tempfile.TemporaryDirectory(prefix="cldr-") as tmp:
        for package, integrity in PACKAGES.items():
            data = npm_pack(f"{package}@{VERSION}", integrity, Path(tmp))
            members[package] = read_members(data)
    out = rows(members, sorted(NAMES))
    write(out, path)
    counts: dict[str, int] = {}
    for label, _ in out:
        counts[label] = counts.get(label, 0) + 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.language.cldr")
    parser.add_argument("command", choices=["build"])
    parser.parse_args(argv)
    counts = build()
    print(
        f"wrote {sum(counts.values())} phrases to {DATA_FILE} ({DATA_FILE.stat().st_size:,} bytes)"
    )
    print(json.dumps(counts, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
