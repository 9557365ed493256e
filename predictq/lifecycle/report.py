"""What `GET /v1/models/<name>` and `predictq models` show: every version that served,
its live accuracy from feedback, its worst confusions, and the shadow comparison."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from models.artifacts import versions as folder_versions
from models.registry import get_spec
from predictq.errors import ArtifactError
from predictq.jobs import iso
from predictq.lifecycle.decisions import serving_version
from predictq.lifecycle.evaluation import SetScore
from predictq.lifecycle.records import Feedback
from predictq.store import Store

CONFUSIONS = 5  # label pairs shown per version


def model_detail(store: Store, model_dir: Path, name: str) -> dict[str, Any]:
    spec = get_spec(name)
    decision = store.models.serving().get(name)
    try:
        serving = serving_version(store, model_dir, name)
    except ArtifactError:
        serving = None
    shadow = decision.shadow if decision else None
    feedback = store.models.feedback(name, with_input=False)  # texts are not needed
    by_version: dict[str | None, list[Feedback]] = defaultdict(list)
    for f in feedback:
        by_version[f.version].append(f)
    counts = {c.version: c for c in store.models.prediction_counts(name)}
    manifests = {m.version: m for m in folder_versions(model_dir, name)}
    listed = list(dict.fromkeys([*counts, *(v for v in (serving, shadow) if v),
                                 *manifests]))
    out_versions = []
    for version in listed:
        count = counts.get(version)
        given = by_version.get(version, [])
        score = SetScore("feedback", len(given), sum(f.correct for f in given))
        manifest = manifests.get(version)
        out_versions.append({
            "version": version,
            "serving": version == serving,
            "shadow": version == shadow,
            "in_model_dir": manifest is not None,
            "created_at": manifest.created_at if manifest else None,
            "learned_from": (manifest.data.get("learned_from") if manifest else None),
            "served_from": iso(count.first_at) if count else None,
            "served_until": iso(count.last_at) if count else None,
            "predictions": count.predictions if count else 0,
            "feedback": len(given),
            "correct": score.correct,
            "accuracy": score.to_public()["accuracy"],
            "accuracy_ci95": score.to_public()["accuracy_ci95"],
            "confusions": confusions(given),
        })
    return {
        "name": name,
        "family": spec.family,
        "labels": list(spec.labels),
        "serving": serving,
        "shadow": shadow,
        "generation": decision.generation if decision else 0,
        "feedback": len(feedback),
        "versions": out_versions,
        "shadow_comparison": shadow_comparison(store, name, feedback),
        "history": [s.to_public() for s in store.models.history(name, limit=20)],
    }


def confusions(feedback: list[Feedback], top: int = CONFUSIONS) -> list[dict[str, Any]]:
    """The most frequent (predicted, true) pairs among wrong answers."""
    pairs = Counter((f.predicted, f.label) for f in feedback if not f.correct)
    return [{"predicted": p, "label": t, "count": n} for (p, t), n in pairs.most_common(top)]


def shadow_comparison(store: Store, name: str, feedback: list[Feedback]
                      ) -> list[dict[str, Any]]:
    """Per shadow version: agreement with the served answers and, on the jobs that have
    feedback, both accuracies — on the same jobs, so the two are comparable."""
    truth = {f.tracking_id: f.label for f in feedback}
    out = []
    for version, (n, agree) in sorted(store.models.shadow_summary(name).items()):
        judged = store.models.shadow_results(name, version, tracking_ids=list(truth)) \
            if truth else []
        shadow_right = sum(r.label == truth[r.tracking_id] for r in judged)
        served_right = sum(r.served_label == truth[r.tracking_id] for r in judged)
        shadow_score = SetScore("feedback", len(judged), shadow_right).to_public()
        served_score = SetScore("feedback", len(judged), served_right).to_public()
        out.append({
            "version": version,
            "compared": n,
            "agreement": round(agree / n, 4) if n else None,
            "with_feedback": len(judged),
            "shadow_accuracy": shadow_score["accuracy"],
            "shadow_accuracy_ci95": shadow_score["accuracy_ci95"],
            "served_accuracy": served_score["accuracy"],
            "served_accuracy_ci95": served_score["accuracy_ci95"],
        })
    return out
