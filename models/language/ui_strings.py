"""Build the committed out-of-domain genre of software-interface strings.

    python -m models.language.ui_strings build

downloads Django's wheel with pip (PyPI `Django==5.2.8`, sha256 pinned below), reads
every compiled gettext catalogue in it (`*/locale/<locale>/LC_MESSAGES/*.mo`, Python's
own `gettext` parser: fuzzy entries are not compiled, so only reviewed translations),
and writes data/ui_strings.tsv (`label<TAB>text`): the translators' strings of each of
our languages — buttons, form errors, admin messages, help texts, plural forms — and,
for English, the source strings (the msgids).

Why this source: real, human-translated interface text, a genre none of the training
files comes from (eld is web/news, the UDHR legal prose, CLDR's phrases are date, unit,
emoji and locale names, Tatoeba everyday sentences), with separate catalogues for
Croatian, Serbian (Cyrillic `sr` and Latin `sr_Latn`), Danish, Bokmål, Malay,
Indonesian and Japanese. It has no Waray catalogue.

Cleaning: placeholders (`%(name)s`, `%s`, `{0}`, `{}`), HTML tags and URLs are removed
(they are code, not language), whitespace collapsed, NFC composed; a string with fewer
than MIN_LETTERS letters is dropped, and so is one equal to its English msgid
(untranslated, or a loanword such as "URL"), one any CLDR phrase of ours equals (CLDR
is training text; Django's language-name catalogue overlaps it), and one that two of our
languages share once case is folded and Serbian Cyrillic is read in Latin letters
(Croatian "Arapski" is Serbian "Арапски": the same text, so no answer can be right for
both; `folded`). Then SAMPLE strings per language are drawn with a fixed seed, in a
stable order. Licence: Django is BSD-3-Clause (© Django Software Foundation and
contributors), translations included. See data/PROVENANCE.md.
"""

from __future__ import annotations

import argparse
import gettext
import io
import json
import random
import re
import sys
import tempfile
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

from models import wheels
from models.language import cldr
from models.language.dataset import latinise_serbian
from models.language.languages import NAMES
from models.language.text import normalise

DATA_FILE = Path(__file__).parent / "data" / "ui_strings.tsv"
WHEEL = "Django==5.2.8"
WHEEL_SHA256 = "37e687f7bd73ddf043e2b6b97cfe02fcbb11f2dbb3adccc6a2b18c6daa054d7f"
SAMPLE = 100
SEED = 0
MIN_LETTERS = 3

# Our label -> Django's locale directories. Every other label is its own locale.
LOCALES: dict[str, tuple[str, ...]] = {
    "sr": ("sr", "sr_Latn"),
    "zh": ("zh_Hans", "zh_Hant"),
}

_CATALOGUE = re.compile(r"/locale/([^/]+)/LC_MESSAGES/[^/]+\.mo$")
_CODE = re.compile(
    r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgG]"  # %(name)s
    r"|%[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgG]"  # %s, %d
    r"|\{[^{}]*\}"  # {0}, {count}, {}
    r"|<[^<>]*>"  # HTML tags
    r"|https?://\S+"
)


def clean(text: str) -> str:
    return normalise(_CODE.sub(" ", text))


def folded(text: str) -> str:
    """The form two languages' strings are compared in: what a reader of either would
    take for the same text."""
    return latinise_serbian(text).casefold()


def letters(text: str) -> int:
    return sum(map(str.isalpha, text))


def catalogues(wheel: zipfile.ZipFile) -> dict[str, list[tuple[str, str]]]:
    """Django locale -> (English msgid, translation) of every compiled catalogue."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for name in sorted(wheel.namelist()):
        found = _CATALOGUE.search(name)
        if not found:
            continue
        translations = gettext.GNUTranslations(io.BytesIO(wheel.read(name)))
        catalogue = translations._catalog  # type: ignore[attr-defined]
        for key, translation in catalogue.items():
            msgid = key[0] if isinstance(key, tuple) else key  # plural forms: (msgid, n)
            if msgid:  # "" is the catalogue's header
                out[found.group(1)].append((msgid, translation))
    return out


def rows(by_locale: dict[str, list[tuple[str, str]]], labels: list[str]) -> list[tuple[str, str]]:
    """(label, string): cleaned, filtered, deduplicated, sampled; see the module doc."""
    training = {text for _, text in cldr.load()}
    candidates: dict[str, set[str]] = {}
    for label in labels:
        found = set()
        # English is the catalogues' source language: its strings are the msgids, of
        # every catalogue (msgfmt leaves the untranslated `en` ones empty).
        for locale in sorted(by_locale) if label == "en" else LOCALES.get(label, (label,)):
            for msgid, translation in by_locale.get(locale, []):
                text = clean(msgid if label == "en" else translation)
                untranslated = label != "en" and text == clean(msgid)
                if letters(text) >= MIN_LETTERS and not untranslated and text not in training:
                    found.add(text)
        candidates[label] = found
    # Counted once per language: a language's own strings may fold together ("Save",
    # "save").
    shared = Counter(key for found in candidates.values() for key in {folded(t) for t in found})
    out = []
    for label in labels:
        unique = sorted(text for text in candidates[label] if shared[folded(text)] == 1)
        picked = random.Random(f"{SEED}-{label}").sample(unique, min(SAMPLE, len(unique)))
        out.extend((label, text) for text in sorted(picked))
    return out


def load(path: Path = DATA_FILE) -> tuple[list[str], list[str]]:
    """(texts, labels) of the genre."""
    texts, labels = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        label, _, text = line.partition("\t")
        texts.append(text)
        labels.append(label)
    return texts, labels


def build(path: Path = DATA_FILE) -> dict[str, int]:
    with tempfile.TemporaryDirectory(prefix="django-") as tmp:
        data = wheels.download(WHEEL, WHEEL_SHA256, Path(tmp))
    out = rows(catalogues(zipfile.ZipFile(io.BytesIO(data))), sorted(NAMES))
    path.write_text("".join(f"{label}\t{text}\n" for label, text in out), encoding="utf-8")
    return dict(sorted(Counter(label for label, _ in out).items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.language.ui_strings")
    parser.add_argument("command", choices=["build"])
    parser.parse_args(argv)
    counts = build()
    size = DATA_FILE.stat().st_size
    print(f"wrote {sum(counts.values())} strings to {DATA_FILE} ({size:,} bytes)")
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
