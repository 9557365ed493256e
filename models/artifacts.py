"""Versioned model artifacts: a joblib file, its manifest, and a CURRENT pointer.

Layout under a model directory::

    <model_dir>/<name>/CURRENT                       the current version, one line
    <model_dir>/<name>/<version>/model.joblib        the pickled estimator
    <model_dir>/<name>/<version>/manifest.json       what it is and how it was made

The version is the first 12 hex digits of the artifact's sha256, so the same bytes are
always the same version. Unpickling runs arbitrary code, so `load_estimator` hashes the
exact bytes it is about to unpickle and refuses them unless they match the manifest.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import os
import platform
import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib

from models.errors import ModelError, ModelNotTrained

log = logging.getLogger(__name__)

ARTIFACT_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
CURRENT_FILE = "CURRENT"
VERSION_CHARS = 12

# Names and versions become path components: allow nothing that could climb out.
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_VERSION = re.compile(rf"^[0-9a-f]{{{VERSION_CHARS}}}$")


class ArtifactIntegrityError(ModelError):
    """An artifact is missing, unreadable, or its bytes do not match its manifest."""


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str
    sha256: str
    artifact: str  # file name, relative to the version directory
    created_at: str  # ISO 8601, UTC
    python_version: str
    sklearn_version: str
    joblib_version: str
    numpy_version: str
    data: dict[str, Any] = field(default_factory=dict)  # training data provenance
    metrics: dict[str, Any] = field(default_factory=dict)  # evaluation results
    params: dict[str, Any] = field(default_factory=dict)  # training parameters

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Manifest:
        """Build from parsed JSON; unknown keys are ignored so newer manifests still load."""
        known = {f.name for f in dataclasses.fields(cls)}
        try:
            return cls(**{k: v for k, v in raw.items() if k in known})
        except TypeError as exc:
            raise ArtifactIntegrityError(f"manifest is incomplete: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def save_artifact(
    estimator: Any,
    model_dir: Path,
    name: str,
    *,
    data: dict[str, Any],
    metrics: dict[str, Any],
    params: dict[str, Any],
    make_current: bool | None = None,
    compress: int = 3,
) -> Manifest:
    """Store `estimator` as a new version of `name` (joblib, zlib level `compress`).

    CURRENT (the version served where the store has no decision) is pointed at it when
    `make_current` is True, or when None and the model has no CURRENT yet: a new
    version of a model that already serves waits for a promotion."""
    base = _model_root(Path(model_dir), name)
    base.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path(base, ".joblib")
    try:
        # zlib level 3 by default: linear models' dense weight matrices shrink ~2.5x for
        # ~0.1 s more load time; the output is still deterministic, so versions stay
        # stable. A model may ask for more (language: see its train.py).
        joblib.dump(estimator, tmp, compress=compress)
        sha256 = _sha256_file(tmp)
        version = sha256[:VERSION_CHARS]
        version_dir = base / version
        version_dir.mkdir(exist_ok=True)
        os.replace(tmp, version_dir / ARTIFACT_FILE)
    finally:
        tmp.unlink(missing_ok=True)

    import numpy
    import sklearn

    manifest = Manifest(
        name=name,
        version=version,
        sha256=sha256,
        artifact=ARTIFACT_FILE,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        python_version=platform.python_version(),
        sklearn_version=sklearn.__version__,
        joblib_version=joblib.__version__,
        numpy_version=numpy.__version__,
        data=data,
        metrics=metrics,
        params=params,
    )
    text = json.dumps(manifest.to_dict(), indent=2, ensure_ascii=False, sort_keys=True)
    _atomic_write(version_dir / MANIFEST_FILE, text + "\n")
    if make_current or (make_current is None and not (base / CURRENT_FILE).exists()):
        set_current(model_dir, name, version)
    return manifest


def set_current(model_dir: Path, name: str, version: str) -> None:
    """Point CURRENT at `version`, which must exist with its manifest."""
    read_manifest(model_dir, name, version)
    # Readers follow CURRENT, so it is written last and atomically: never a version
    # whose files are partial.
    _atomic_write(_model_root(Path(model_dir), name) / CURRENT_FILE, version + "\n")


def versions(model_dir: Path, name: str) -> list[Manifest]:
    """Every version of `name` in the folder with a readable manifest, oldest first."""
    root = _model_root(Path(model_dir), name)
    found = []
    for entry in root.iterdir() if root.is_dir() else ():
        if entry.is_dir() and _VERSION.match(entry.name):
            try:
                found.append(read_manifest(model_dir, name, entry.name))
            except ModelError:
                continue
    return sorted(found, key=lambda m: (m.created_at, m.version))


def current_version(model_dir: Path, name: str) -> str:
    """The version CURRENT points to; ModelNotTrained if there is none."""
    pointer = _model_root(Path(model_dir), name) / CURRENT_FILE
    try:
        version = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise ModelNotTrained(f"model {name!r} has not been trained (no {pointer})") from None
    if not _VERSION.match(version):
        raise ArtifactIntegrityError(f"{pointer} holds {version!r}, not a version")
    return version


def read_manifest(model_dir: Path, name: str, version: str | None = None) -> Manifest:
    """The manifest of `version` (default: the current one)."""
    version = current_version(model_dir, name) if version is None else version
    if not _VERSION.match(version):
        raise ModelNotTrained(f"model {name!r} has no version {version!r}")
    path = _model_root(Path(model_dir), name) / version / MANIFEST_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelNotTrained(f"model {name!r} has no version {version!r}") from None
    except (OSError, ValueError) as exc:
        raise ArtifactIntegrityError(f"cannot read {path}: {exc}") from None
    if not isinstance(raw, dict):
        raise ArtifactIntegrityError(f"{path} is not a JSON object")
    manifest = Manifest.from_dict(raw)
    if manifest.name != name or manifest.version != version:
        raise ArtifactIntegrityError(
            f"{path} describes {manifest.name}@{manifest.version}, not {name}@{version}"
        )
    return manifest


def available(model_dir: Path, name: str) -> bool:
    """Whether `name` has a current version with both files present (not hash-checked)."""
    try:
        manifest = read_manifest(model_dir, name)
    except ModelError:
        return False
    version_dir = _model_root(Path(model_dir), name) / manifest.version
    return (version_dir / Path(manifest.artifact).name).is_file()


def load_estimator(model_dir: Path, name: str, version: str | None = None) -> tuple[Any, Manifest]:
    """Unpickle a verified artifact: the bytes are hashed before anything runs them."""
    manifest = read_manifest(model_dir, name, version)
    path = _model_root(Path(model_dir), name) / manifest.version / Path(manifest.artifact).name
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise ArtifactIntegrityError(
            f"artifact of {name}@{manifest.version} unreadable: {exc}"
        ) from exc
    digest = hashlib.sha256(blob).hexdigest()
    # Both checks: the manifest's own sha256 and the version that names the directory.
    if digest != manifest.sha256 or not digest.startswith(manifest.version):
        raise ArtifactIntegrityError(
            f"artifact {path} has sha256 {digest}, manifest says {manifest.sha256}: refusing "
            "to unpickle it"
        )
    import sklearn

    if manifest.sklearn_version != sklearn.__version__:
        log.warning(
            "%s@%s was trained with scikit-learn %s, running %s: retrain if predictions look wrong",
            name,
            manifest.version,
            manifest.sklearn_version,
            sklearn.__version__,
        )
    # Unpickle the very bytes that were hashed, not the file again (it could change).
    return joblib.load(io.BytesIO(blob)), manifest


def _model_root(model_dir: Path, name: str) -> Path:
    if not _NAME.match(name):
        raise ModelError(f"invalid model name {name!r}")
    return model_dir / name


def _temp_path(directory: Path, suffix: str) -> Path:
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=suffix)
    os.close(fd)
    # mkstemp makes files private (0600); artifacts are read by workers that may run
    # as another user (containers), and hold nothing secret.
    os.chmod(tmp, 0o644)
    return Path(tmp)


def _atomic_write(path: Path, text: str) -> None:
    tmp = _temp_path(path.parent, ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
