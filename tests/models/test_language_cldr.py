from __future__ import annotations

import hashlib
import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from models.language import cldr, corpus, dataset
from models.language.corpus import CorpusError


def _doc(locale: str, fields: dict) -> bytes:
    return json.dumps({"main": {locale: {"dates": {"fields": fields}}}}).encode()


def test_phrase_drops_placeholders_and_letterless_strings() -> None:
    assert cldr.phrase("za {0} godinu") == "za godinu"
    assert cldr.phrase("{0}/{1}") == ""
    assert cldr.phrase("g.") == ""
    assert cldr.phrase("  prošle   godine ") == "prošle godine"


def test_rows_read_each_labels_locales_and_drop_phrases_two_labels_share() -> None:
    members = {
        "cldr-dates-full": {
            "main/hr/dateFields.json": _doc("hr", {"w": {"n": "sljedeći tjedan", "x": "Kanada"}}),
            "main/sr/dateFields.json": _doc("sr", {"w": {"n": "следеће недеље"}}),
            "main/sr-Latn/dateFields.json": _doc("sr-Latn", {"w": {"n": "sledeće nedelje"}}),
            "main/nb/dateFields.json": _doc("nb", {"w": {"n": "neste uke", "x": "Kanada"}}),
        },
        "cldr-annotations-full": {
            "annotations/no/annotations.json": json.dumps(
                {"annotations": {"annotations": {"😀": {"default": ["glad"], "tts": ["glis"]}}}}
            ).encode(),
        },
    }

    rows = cldr.rows(members, ["hr", "nb", "sr"])

    assert rows == [
        ("hr", "sljedeći tjedan"),
        ("nb", "neste uke"),
        ("nb", "glad"),
        ("nb", "glis"),
        ("sr", "следеће недеље"),
        ("sr", "sledeće nedelje"),
    ]


def test_build_refuses_a_tarball_that_is_not_the_pinned_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fake_npm(args, **kwargs):
        (tmp_path / "x.tgz").write_bytes(b"not the real package")
        return subprocess.CompletedProcess(args, 0, '[{"filename": "x.tgz"}]', "")

    monkeypatch.setattr(corpus.subprocess, "run", fake_npm)

    with pytest.raises(CorpusError, match="integrity mismatch"):
        corpus.npm_pack("cldr-dates-full@48.2.0", cldr.PACKAGES["cldr-dates-full"], tmp_path)


def test_committed_cldr_file_is_pinned_and_keeps_serbian_and_croatian_apart() -> None:
    provenance = (cldr.DATA_FILE.parent / "PROVENANCE.md").read_text(encoding="utf-8")
    assert hashlib.sha256(cldr.DATA_FILE.read_bytes()).hexdigest() in provenance

    units = dataset.cldr_phrases(seed=0)
    classes = Counter(u.label for u in units)
    assert {"hr", "sr-Latn", "sr-Cyrl", "nb", "da", "id", "ms"} <= set(classes)
    assert "war" not in classes
    words = {c: {w for u in units if u.label == c for w in u.text.split()} for c in classes}
    assert "nedelja" in words["sr-Latn"] and "nedelja" not in words["hr"]
    assert "nedjelja" in words["hr"] and "nedjelja" not in words["sr-Latn"]
    assert all(u.source == "cldr" for u in units)
