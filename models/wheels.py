"""Read data files out of a pinned PyPI wheel, for the data build scripts only.

Training data ships inside wheels (aeon, sktime, eld, wordfreq, nlp-id). Installing
those packages is not needed to read it — and aeon 1.6.0 cannot even be installed beside
predictq's pinned numpy — so a build downloads the exact wheel with pip, checks its
sha256 against the pin, and reads members from the zip.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


class WheelError(RuntimeError):
    """The wheel could not be fetched, or is not the pinned one."""


@dataclass(frozen=True)
class PinnedWheel:
    project: str
    version: str
    filename: str
    sha256: str  # of the wheel file as PyPI serves it

    @property
    def requirement(self) -> str:
        return f"{self.project}=={self.version}"

    def describe(self) -> str:
        return f"PyPI {self.filename} (sha256 {self.sha256})"


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download(requirement: str, sha256: str, directory: Path | None = None) -> bytes:
    """The one wheel pip downloads for `requirement` (no dependencies, nothing
    installed), refused unless its sha256 is the pinned one."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(directory or tmp)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "--quiet", "--dest", str(target), requirement]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        found = sorted(target.glob("*.whl"))
        if done.returncode != 0 or len(found) != 1:
            raise WheelError(f"pip could not download {requirement}: {done.stderr.strip()}"
                             f" (wheels found: {[p.name for p in found]})")
        data = found[0].read_bytes()
    digest = sha256_of(data)
    if digest != sha256:
        raise WheelError(
            f"{requirement}: sha256 {digest} is not the pinned {sha256}; "
            "refusing to build data from an unreviewed file"
        )
    return data


def fetch(wheel: PinnedWheel, directory: Path | None = None) -> bytes:
    """The pinned wheel's bytes."""
    return download(wheel.requirement, wheel.sha256, directory)


def read_members(data: bytes, names: list[str]) -> dict[str, bytes]:
    """The named members of a wheel (a zip), each as bytes."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        present = set(archive.namelist())
        missing = [name for name in names if name not in present]
        if missing:
            raise WheelError(f"wheel has no {', '.join(missing)}")
        return {name: archive.read(name) for name in names}
