"""Committed data files: `.npz` archives written byte-for-byte reproducibly.

`numpy.savez_compressed` stamps each member with the current time, so rebuilding the
same data would change the file's hash; this writer fixes the stamp.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> str:
    """Write `arrays` (in name order) as a deflated .npz; return the file's sha256."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(arrays[name]),
                                      allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue(), compresslevel=9)
    blob = buffer.getvalue()
    tmp = Path(path).with_suffix(".tmp")
    tmp.write_bytes(blob)
    os.replace(tmp, path)
    return hashlib.sha256(blob).hexdigest()


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array in a committed .npz (no pickles: these are plain numbers and strings)."""
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def build_command(prog: str, build: Callable[[], str], data_file: Path,
                  argv: list[str] | None = None) -> int:
    """`python -m models.<name>.data build`: rebuild the committed file, say what it wrote."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("command", choices=["build"])
    parser.parse_args(argv)
    digest = build()
    print(f"wrote {data_file} ({data_file.stat().st_size:,} bytes, sha256 {digest})")
    return 0
