"""The `language` pipeline: hashed character + word n-gram counts, multinomial naive Bayes.

The talk's TF-IDF + LinearSVC baseline was measured against this on the same data (see
MODEL_CARD.md, "Choices"): naive Bayes over character 1-4-grams is the classic language
identifier (langid.py is one), it fits in one pass over the counts (seconds, where the
SVM needed minutes per fit on 120,000 texts) and it was as accurate or better on short
out-of-domain text. Its raw probabilities are far too sure of themselves; calibration.py
fixes that. scikit-learn objects plus one function of ours (ngrams.char_ngrams, referenced
by name in the pickle), so an artifact unpickles wherever predictq is installed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from models.language.languages import base_label
from models.language.ngrams import char_ngrams

DEFAULT_PARAMS: dict[str, Any] = {
    # Character n-grams of " text " (ngrams.py, vectorised: scikit-learn's analyzers
    # were two thirds of prediction time), spaces included, so word starts and ends are
    # features of their own. 4-grams catch short function words and endings whole
    # ("och ", " und", "ção ").
    "char_ngram_range": (1, 4),
    # Hashed into fixed columns rather than a vocabulary: nothing to store or unpickle
    # (a 300,000-entry vocabulary took 2-4 s to load and ~100 MB of memory), and
    # training skips the counting pass. Character n-grams: 2**18 columns were as good as
    # a 300,000 n-gram vocabulary, and 2**17 costs nothing measurable either.
    "char_hash_bits": 17,
    # Words need more: with 2**16 columns, each held about nine of the ~575,000 training
    # words of all languages, so a word unseen in training (most of a UI string: "ljekarna",
    # "kvalitetnog") landed in a column one language had filled, and the x3 word weight
    # made that a 15-20 nat vote (a random column favoured Croatian or Serbian by over 5
    # nats 13% of the time). Interface strings, same data, char/word bits: 18/16 90.2%,
    # 17/17 90.6%, 17/18 90.9%, 18/18 91.1% (Croatian 61, 61, 64, 65%); Tatoeba 97.8,
    # 97.7, 97.7, 97.7%. 17/18 has 20% more columns than 18/16 (~12 MB more memory);
    # 18/18 cost 47 MB more.
    "word_hash_bits": 18,
    # Additive smoothing. Small, because most n-grams are absent from most languages
    # and that absence is evidence.
    "alpha": 0.01,
    "lowercase": True,
    # Word counts multiplied by this. A text has about four character n-grams per
    # letter and one word per five or six letters, so unweighted the character model
    # outvoted the words: "hva", "meg", "å" (Bokmål only) lost to the dozens of character
    # n-grams of "jeg", "ikke", "du", which Danish's chattier training text says more.
    # Mean out-of-domain accuracy over three seeds: 97.70% (1), 97.84% (2), 97.90% (3),
    # about 97.84% (4); held-out 98.78% -> 98.84%.
    "word_weight": 3.0,
}


def _hashing(
    analyzer: str, ngram_range: tuple[int, int], bits: int, lowercase: bool, **extra: Any
) -> HashingVectorizer:
    # alternate_sign=False and norm=None: plain counts, which is what naive Bayes models.
    return HashingVectorizer(
        analyzer=analyzer,
        ngram_range=ngram_range,
        n_features=2**bits,
        alternate_sign=False,
        norm=None,
        lowercase=lowercase,
        dtype=np.float32,
        **extra,
    )


def build_pipeline(**params: Any) -> Pipeline:
    """A fresh, unfitted pipeline; keyword arguments override DEFAULT_PARAMS."""
    unknown = set(params) - set(DEFAULT_PARAMS)
    if unknown:
        raise TypeError(f"unknown pipeline parameters: {', '.join(sorted(unknown))}")
    p = {**DEFAULT_PARAMS, **params}
    features = FeatureUnion(
        [
            (
                "char",
                FunctionTransformer(
                    char_ngrams,
                    kw_args={
                        "ngram_range": tuple(p["char_ngram_range"]),
                        "bits": p["char_hash_bits"],
                    },
                ),
            ),
            # Single letters are words too in some languages ("a", "i", "o", "y").
            (
                "word",
                _hashing(
                    "word",
                    (1, 1),
                    p["word_hash_bits"],
                    p["lowercase"],
                    token_pattern=r"(?u)\b\w+\b",
                ),
            ),
        ],
        transformer_weights={"word": float(p["word_weight"])},
    )
    # fit_prior=False: every language equally likely a priori. The training mix says
    # nothing about what users send, and a uniform prior keeps the small classes (Waray,
    # Kazakh) from being talked out of short, ambiguous texts. train.py sets class_prior
    # (language_prior) once the classes are known.
    classifier = MultinomialNB(alpha=p["alpha"], fit_prior=False)
    return Pipeline([("features", features), ("nb", classifier)])


def language_prior(classes: Sequence[str]) -> np.ndarray:
    """Every language equally likely, its script classes sharing its share: Serbian's
    sr-Cyrl and sr-Latn get half of a language's prior each.

    With fit_prior=False alone every *class* was equally likely, so Serbian had twice
    the prior of any other language, and on Latin text Croatian met a Serbian class as
    likely as itself although Serbian is also written in Cyrillic. Issue 14: interface
    strings hr 56% -> 58% (sr 78% both), Tatoeba hr 40 -> 41 of 47 (sr 92 of 96 both),
    held-out unchanged (98.89%). Set as MultinomialNB's class_prior, so partial_fit
    (feedback learning, learn.py) keeps it.
    """
    per_language = Counter(base_label(c) for c in classes)
    prior = np.array([1.0 / per_language[base_label(c)] for c in classes])
    return prior / prior.sum()


def compact(pipeline: Pipeline) -> Pipeline:
    """Drop what prediction does not use and halve the rest, in place; returns it.
    Idempotent: train.py calls it again right before saving.

    MultinomialNB keeps its raw counts next to the log-probabilities (twice the size);
    prediction needs only the latter, and float32 loses nothing that matters
    (differences of ~1e-7 in a sum of a few hundred terms).
    """
    nb = pipeline.named_steps["nb"]
    # Fortran order: naive Bayes multiplies by the transpose, which is then C-contiguous;
    # in C order scipy copied the whole 60 MB table on every batch.
    nb.feature_log_prob_ = np.asfortranarray(nb.feature_log_prob_, dtype=np.float32)
    nb.feature_count_ = np.zeros((nb.feature_count_.shape[0], 0), dtype=np.float32)
    for _, vectorizer in pipeline.named_steps["features"].transformer_list:
        # A cache scikit-learn sets on every transform: the memory address of the stop
        # word list. Pickled, it made two trainings of the same data differ in bytes,
        # hence in version. Without it, scikit-learn just recomputes it.
        vectorizer.__dict__.pop("_stop_words_id", None)
    return pipeline
