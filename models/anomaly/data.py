"""The `anomaly` model's data: two labelled physiological recordings from pip wheels.

- KDD-TSAD 135 (UCR Anomaly Archive, "InternalBleeding16"), from the `aeon` 1.6.0
  wheel: 7,501 readings, the first 1,200 the official anomaly-free training part, one
  labelled anomaly in the rest.
- MIT-BIH excerpt ("mitdb"), from the `sktime` 1.2.0 wheel: 7,500 ECG readings, one
  labelled abnormal stretch near the end.

`python -m models.anomaly.data build` rebuilds `data/series.npz` from the pinned wheels
(needs pip and PyPI, neither package installed). Training reads only the committed
file. See data/PROVENANCE.md.
"""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.sensor.npz import build_command, read_npz, sha256_file, write_npz
from models.wheels import PinnedWheel, fetch, read_members

AEON = PinnedWheel(
    project="aeon",
    version="1.6.0",
    filename="aeon-1.6.0-py3-none-any.whl",
    sha256="d05227086706f80111ac5fee8de4d5d3115bb3bcfd1c786c8629393055816409",
)
SKTIME = PinnedWheel(
    project="sktime",
    version="1.2.0",
    filename="sktime-1.2.0-py3-none-any.whl",
    sha256="dbffc6731d2d683b668dceb5e2bbc5804bebc8446b4c580803a281684d90e4ae",
)
KDD_DIR = "aeon/datasets/data/KDD-TSAD_135/135_UCR_Anomaly_InternalBleeding16"
KDD_TEST = f"{KDD_DIR}_TEST.csv"
KDD_TRAIN = f"{KDD_DIR}_TRAIN.csv"
MITDB = "sktime/datasets/data/mitdb/mitdb.csv"
DATA_FILE = Path(__file__).parent / "data" / "series.npz"
# mitdb has no official split: its first 2,500 readings (about 8 beats, all unlabelled,
# ending 4,436 readings before the labelled stretch) train, the rest is held out.
MITDB_TRAIN_LENGTH = 2500


class DataError(ValueError):
    """A source file is not what we expect."""


@dataclass(frozen=True)
class Series:
    name: str
    values: np.ndarray  # float64
    labels: np.ndarray  # bool, True = labelled anomalous
    train_length: int  # values[:train_length] are anomaly-free training data

    @property
    def train(self) -> np.ndarray:
        return self.values[: self.train_length]

    @property
    def heldout(self) -> tuple[np.ndarray, np.ndarray]:
        return self.values[self.train_length :], self.labels[self.train_length :]


def parse_csv(text: str, value: str, label: str) -> tuple[np.ndarray, np.ndarray]:
    """A two-column labelled series (value, 0/1 label) from CSV text."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or {value, label} - set(reader.fieldnames):
        raise DataError(f"expected columns {value!r} and {label!r}, got {reader.fieldnames}")
    values, labels = [], []
    for row in reader:
        values.append(float(row[value]))
        if row[label] not in ("0", "1"):
            raise DataError(f"label {row[label]!r} is not 0 or 1")
        labels.append(row[label] == "1")
    return np.asarray(values, dtype=np.float64), np.asarray(labels, dtype=bool)


def build(path: Path = DATA_FILE) -> str:
    """Fetch both pinned wheels, extract the two series, write `path`; return its sha256."""
    aeon = read_members(fetch(AEON), [KDD_TEST, KDD_TRAIN])
    sktime = read_members(fetch(SKTIME), [MITDB])
    kdd, kdd_labels = parse_csv(aeon[KDD_TEST].decode(), "value", "is_anomaly")
    kdd_train, kdd_train_labels = parse_csv(aeon[KDD_TRAIN].decode(), "value", "is_anomaly")
    # The archive's TEST file is the whole recording; TRAIN is its anomaly-free prefix.
    if kdd_train_labels.any() or not np.array_equal(kdd[: len(kdd_train)], kdd_train):
        raise DataError("KDD-TSAD 135 TRAIN is not an anomaly-free prefix of TEST")
    mitdb, mitdb_labels = parse_csv(sktime[MITDB].decode(), "data", "label")
    if mitdb_labels[:MITDB_TRAIN_LENGTH].any():
        raise DataError("mitdb has labelled anomalies inside its training part")
    return write_npz(path, {
        "kdd135_values": kdd, "kdd135_labels": kdd_labels,
        "kdd135_train_length": np.array(len(kdd_train)),
        "mitdb_values": mitdb, "mitdb_labels": mitdb_labels,
        "mitdb_train_length": np.array(MITDB_TRAIN_LENGTH),
    })


def load(path: Path = DATA_FILE) -> list[Series]:
    """Both series, each with its labels and the length of its training part."""
    arrays = read_npz(path)
    return [
        Series(name, arrays[f"{name}_values"], arrays[f"{name}_labels"].astype(bool),
               int(arrays[f"{name}_train_length"]))
        for name in ("kdd135", "mitdb")
    ]


def data_sha256(path: Path = DATA_FILE) -> str:
    return sha256_file(path)


def main(argv: list[str] | None = None) -> int:
    return build_command("python -m models.anomaly.data", build, DATA_FILE, argv)


if __name__ == "__main__":
    sys.exit(main())
