from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression

from models import artifacts
from models.artifacts import (
    ArtifactIntegrityError,
    Manifest,
    available,
    load_estimator,
    read_manifest,
    save_artifact,
    set_current,
    versions,
)
from models.errors import ModelError, ModelNotTrained

X = np.array([[0.0, 0.0], [0.1, 0.2], [1.0, 1.0], [0.9, 1.1]])
Y = np.array([0, 0, 1, 1])


def fitted(c: float = 1.0) -> LogisticRegression:
    return LogisticRegression(C=c).fit(X, Y)


def save(model_dir: Path, estimator=None, **overrides) -> Manifest:
    kwargs = {"data": {"rows": 4}, "metrics": {"accuracy": 1.0}, "params": {"C": 1.0}}
    kwargs.update(overrides)
    return save_artifact(estimator or fitted(), model_dir, "toy", **kwargs)


def artifact_path(model_dir: Path, manifest: Manifest) -> Path:
    return model_dir / "toy" / manifest.version / manifest.artifact


def test_round_trip_predicts_the_same(tmp_path: Path) -> None:
    original = fitted()
    manifest = save(tmp_path, original)

    loaded, read_back = load_estimator(tmp_path, "toy")

    assert read_back == manifest
    np.testing.assert_array_equal(loaded.predict_proba(X), original.predict_proba(X))


def test_manifest_describes_the_artifact(tmp_path: Path) -> None:
    manifest = save(tmp_path)
    path = artifact_path(tmp_path, manifest)

    assert manifest.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert manifest.version == manifest.sha256[:12]
    assert manifest.artifact == "model.joblib"
    assert datetime.fromisoformat(manifest.created_at).utcoffset().total_seconds() == 0
    assert manifest.sklearn_version == sklearn.__version__
    assert manifest.joblib_version == joblib.__version__
    assert manifest.numpy_version == np.__version__
    assert manifest.python_version.count(".") == 2
    assert (manifest.data, manifest.metrics, manifest.params) == (
        {"rows": 4},
        {"accuracy": 1.0},
        {"C": 1.0},
    )
    on_disk = json.loads((path.parent / "manifest.json").read_text(encoding="utf-8"))
    assert Manifest.from_dict(on_disk) == manifest


def test_same_bytes_same_version(tmp_path: Path) -> None:
    first = save(tmp_path)
    second = save(tmp_path, metrics={"accuracy": 0.5})

    assert second.version == first.version
    versions = [p.name for p in (tmp_path / "toy").iterdir() if p.is_dir()]
    assert versions == [first.version]
    assert read_manifest(tmp_path, "toy").metrics == {"accuracy": 0.5}


def test_a_new_version_waits_for_promotion_and_old_versions_stay_loadable(
        tmp_path: Path) -> None:
    old = save(tmp_path, fitted(1.0))
    new = save(tmp_path, fitted(0.01))

    assert new.version != old.version
    # The first version serves at once; a later one only once made current.
    assert (tmp_path / "toy" / "CURRENT").read_text().strip() == old.version
    assert {m.version for m in versions(tmp_path, "toy")} == {old.version, new.version}
    set_current(tmp_path, "toy", new.version)
    assert read_manifest(tmp_path, "toy").version == new.version
    with pytest.raises(ModelNotTrained):
        set_current(tmp_path, "toy", "0123456789ab")
    assert read_manifest(tmp_path, "toy").version == new.version
    estimator, manifest = load_estimator(tmp_path, "toy", old.version)
    assert manifest.version == old.version
    assert estimator.C == 1.0
    # Atomic writes leave no temporary files behind.
    assert not [p for p in (tmp_path / "toy").rglob(".tmp-*")]


def test_flipped_byte_is_refused_before_unpickling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = save(tmp_path)
    path = artifact_path(tmp_path, manifest)
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    path.write_bytes(bytes(blob))
    unpickled = []
    monkeypatch.setattr(artifacts.joblib, "load", lambda *a, **k: unpickled.append(a))

    with pytest.raises(ArtifactIntegrityError, match="refusing to unpickle"):
        load_estimator(tmp_path, "toy")
    assert unpickled == []


def test_manifest_edited_to_match_a_swapped_file_is_refused(tmp_path: Path) -> None:
    # Replacing the file AND its manifest sha256 still fails: the version names the hash.
    manifest = save(tmp_path)
    other = save_artifact(
        fitted(0.01), tmp_path / "elsewhere", "toy", data={}, metrics={}, params={}
    )
    path = artifact_path(tmp_path, manifest)
    path.write_bytes(artifact_path(tmp_path / "elsewhere", other).read_bytes())
    raw = json.loads((path.parent / "manifest.json").read_text())
    raw["sha256"] = other.sha256
    (path.parent / "manifest.json").write_text(json.dumps(raw))

    with pytest.raises(ArtifactIntegrityError):
        load_estimator(tmp_path, "toy")


def test_missing_artifact_file_is_an_integrity_error(tmp_path: Path) -> None:
    manifest = save(tmp_path)
    artifact_path(tmp_path, manifest).unlink()

    assert not available(tmp_path, "toy")
    with pytest.raises(ArtifactIntegrityError):
        load_estimator(tmp_path, "toy")


def test_untrained_model_is_model_not_trained(tmp_path: Path) -> None:
    assert not available(tmp_path, "toy")
    with pytest.raises(ModelNotTrained):
        load_estimator(tmp_path, "toy")
    with pytest.raises(ModelNotTrained):
        read_manifest(tmp_path, "toy")
    save(tmp_path)
    assert available(tmp_path, "toy")
    with pytest.raises(ModelNotTrained):
        load_estimator(tmp_path, "toy", "0123456789ab")


def test_corrupt_current_pointer_is_refused(tmp_path: Path) -> None:
    save(tmp_path)
    (tmp_path / "toy" / "CURRENT").write_text("../../etc\n")

    with pytest.raises(ArtifactIntegrityError):
        load_estimator(tmp_path, "toy")


def test_names_that_could_escape_the_model_dir_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ModelError):
        save_artifact(fitted(), tmp_path, "../evil", data={}, metrics={}, params={})
    with pytest.raises(ModelError):
        load_estimator(tmp_path, "../evil")


def test_manifest_from_dict_ignores_unknown_keys_and_rejects_missing_ones(
    tmp_path: Path,
) -> None:
    raw = save(tmp_path).to_dict()

    assert Manifest.from_dict({**raw, "added_later": 1}).to_dict() == raw
    del raw["sha256"]
    with pytest.raises(ArtifactIntegrityError):
        Manifest.from_dict(raw)


def test_errors_share_one_root() -> None:
    assert issubclass(ArtifactIntegrityError, ModelError)
    assert issubclass(ModelNotTrained, ModelError)
