"""Read data files out of a pinned PyPI wheel, for the data build scripts only.

The sensor data ships inside the `aeon` and `sktime` wheels. Installing those packages
is not needed to read it — and aeon 1.6.0 cannot be installed beside predictq's pinned
numpy (its numba pin wants an older numpy) — so the build downloads the exact wheel
with pip, checks its sha256 against the pin, and reads members from the zip.
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


def fetch(wheel: PinnedWheel, directory: Path | None = None) -> bytes:
    """The wheel's bytes, downloaded by pip (no dependencies, nothing installed)."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(directory or tmp)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "--quiet", "--dest", str(target), wheel.requirement]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        path = target / wheel.filename
        if done.returncode != 0 or not path.is_file():
            raise WheelError(f"pip could not download {wheel.requirement}: {done.stderr.strip()}")
        data = path.read_bytes()
    digest = sha256_of(data)
    if digest != wheel.sha256:
        raise WheelError(
            f"{wheel.filename}: sha256 {digest} is not the pinned {wheel.sha256}; "
            "refusing to build data from an unreviewed file"
        )
    return data


def read_members(data: bytes, names: list[str]) -> dict[str, bytes]:
    """The named members of a wheel (a zip), each as bytes."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        present = set(archive.namelist())
        missing = [name for name in names if name not in present]
        if missing:
            raise WheelError(f"wheel has no {', '.join(missing)}")
        return {name: archive.read(name) for name in names}
