"""The open detectors we compare against, restricted to our labels, behind one interface.

Both come from the `eval` extra (pip install -e '.[eval]'); nothing else imports them.
A detector that cannot name one of our languages (lingua has no Waray or Amharic,
py3langid no Waray) simply gets those texts wrong: the comparison is on our test sets.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# Where a detector's code differs from our label.
_PY3LANGID_CODES = {"nb": "no"}


class Detector(Protocol):
    name: str
    unsupported: frozenset[str]

    def predict(self, texts: Sequence[str]) -> list[str]: ...


@dataclass
class Lingua:
    """lingua-language-detector, high-accuracy mode, models preloaded, batch API."""

    labels: Sequence[str]
    name: str = "lingua"

    def __post_init__(self) -> None:
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        languages, missing = [], set()
        for label in self.labels:
            code = getattr(IsoCode639_1, label.upper(), None)
            if code is None:
                missing.add(label)
                continue
            languages.append(Language.from_iso_code_639_1(code))
        self.unsupported = frozenset(missing)
        self._detector = (
            LanguageDetectorBuilder.from_languages(*languages)
            .with_preloaded_language_models()
            .build()
        )

    def predict(self, texts: Sequence[str]) -> list[str]:
        found = self._detector.detect_languages_in_parallel_of(list(texts))
        return [f.iso_code_639_1.name.lower() if f else "" for f in found]


@dataclass
class Py3langid:
    """py3langid (langid.py's model), restricted with set_languages, one text at a time
    (it has no batch API)."""

    labels: Sequence[str]
    name: str = "py3langid"

    def __post_init__(self) -> None:
        from py3langid import langid

        identifier = langid.LanguageIdentifier.from_modelpath(
            Path(langid.MODEL_DIR) / langid.MODEL_FILE
        )
        known = set(identifier.nb_classes)
        wanted = {label: _PY3LANGID_CODES.get(label, label) for label in self.labels}
        self.unsupported = frozenset(label for label, code in wanted.items() if code not in known)
        self._back = {code: label for label, code in wanted.items()}
        identifier.set_languages([code for code in wanted.values() if code in known])
        self._identifier = identifier

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [self._back.get(self._identifier.classify(t)[0], "") for t in texts]


def timed(detector: Detector, texts: Sequence[str]) -> tuple[list[str], float]:
    """Predictions and milliseconds per text for one batch call."""
    started = time.perf_counter()
    predicted = detector.predict(texts)
    return predicted, (time.perf_counter() - started) * 1000 / max(1, len(texts))
