"""The `appliance` model's data: ACSF1, the UCR archive's appliance power signatures.

`python -m models.appliance.data build` rebuilds `data/acsf1.npz` from the pinned
`sktime` 1.2.0 wheel (it needs pip and PyPI, not sktime installed). Training reads only
the committed file. See data/PROVENANCE.md.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.sensor.npz import build_command, read_npz, sha256_file, write_npz
from models.wheels import PinnedWheel, fetch, read_members

WHEEL = PinnedWheel(
    project="sktime",
    version="1.2.0",
    filename="sktime-1.2.0-py3-none-any.whl",
    sha256="dbffc6731d2d683b668dceb5e2bbc5804bebc8446b4c580803a281684d90e4ae",
)
MEMBERS = {
    "train": "sktime/datasets/data/ACSF1/ACSF1_TRAIN.ts",
    "test": "sktime/datasets/data/ACSF1/ACSF1_TEST.ts",
}
DATA_FILE = Path(__file__).parent / "data" / "acsf1.npz"
SERIES_LENGTH = 1460


class DataError(ValueError):
    """The source file is not the ACSF1 we expect."""


@dataclass(frozen=True)
class Split:
    X: np.ndarray  # (n, 1460) float64, as published (each series z-normalised)
    y: np.ndarray  # (n,) class codes as strings, "0".."9"


def parse_ts(text: str) -> tuple[np.ndarray, np.ndarray]:
    """An equal-length univariate `.ts` file (sktime/aeon format) → (X, y)."""
    rows, labels, in_data = [], [], False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            in_data = line.lower() == "@data"
            continue
        values, sep, label = line.rpartition(":")
        if not sep or ":" in values:
            raise DataError(f"line {number}: expected one univariate series and a label")
        rows.append([float(v) for v in values.split(",")])
        labels.append(label.strip())
    if not rows:
        raise DataError("no @data section")
    lengths = {len(row) for row in rows}
    if lengths != {SERIES_LENGTH}:
        raise DataError(f"series lengths {sorted(lengths)}, expected {SERIES_LENGTH}")
    return np.asarray(rows, dtype=np.float64), np.asarray(labels)


def build(path: Path = DATA_FILE) -> str:
    """Fetch the pinned wheel, extract both splits, write `path`; return its sha256."""
    members = read_members(fetch(WHEEL), list(MEMBERS.values()))
    arrays = {}
    for split, member in MEMBERS.items():
        X, y = parse_ts(members[member].decode("utf-8"))
        arrays[f"X_{split}"], arrays[f"y_{split}"] = X, y
    return write_npz(path, arrays)


def load(path: Path = DATA_FILE) -> tuple[Split, Split]:
    """The official train and test splits (100 series each, 10 per class)."""
    arrays = read_npz(path)
    return (Split(arrays["X_train"], arrays["y_train"]),
            Split(arrays["X_test"], arrays["y_test"]))


def data_sha256(path: Path = DATA_FILE) -> str:
    return sha256_file(path)


def main(argv: list[str] | None = None) -> int:
    return build_command("python -m models.appliance.data", build, DATA_FILE, argv)


if __name__ == "__main__":
    sys.exit(main())
