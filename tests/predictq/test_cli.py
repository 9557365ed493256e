"""The `predictq` command's offline parts: train, predict, status."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from predictq.cli import main


@pytest.fixture
def env(tmp_path, model_dir):
    return {"PREDICTQ_DATA_DIR": str(tmp_path / "var"), "PREDICTQ_MODEL_DIR": str(model_dir)}


def run(args, env, input=None):
    return CliRunner().invoke(main, args, env=env, input=input, catch_exceptions=False)


def test_predict_scores_json_lines(env, tmp_path):
    # Plumbing, not model quality (tests/models covers that): clear, longer sentences.
    lines = [{"text": "Alla människor är födda fria och lika i värde och rättigheter."},
             {"text": "Todos los seres humanos nacen libres e iguales en dignidad y derechos."},
             {"text": "Все люди рождаются свободными и равными в своем достоинстве и правах."}]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n\n")
    result = run(["predict", "--model", "language", str(path)], env)
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert [o["label"] for o in out] == ["sv", "es", "ru"]
    assert all({"label", "name", "confidence"} <= set(o) for o in out)


def test_predict_reads_stdin(env):
    text = "Alle Menschen sind frei und gleich an Würde und Rechten geboren."
    result = run(["predict", "-m", "language", "-"], env, input=json.dumps({"text": text}))
    assert result.exit_code == 0
    assert json.loads(result.output)["label"] == "de"


def test_predict_says_undetermined_for_a_text_without_letters(env):
    lines = '{"text": "12345 678"}\n{"text": "Dobrý den, jak se máte?"}\n'
    result = run(["predict", "-m", "language", "-"], env, input=lines)
    assert result.exit_code == 0, result.output
    und, czech = (json.loads(line) for line in result.output.splitlines())
    assert und == {"label": "und", "name": "Undetermined", "confidence": 0.0}
    assert czech["label"] == "cs"


@pytest.mark.parametrize(("line", "message"), [
    ("not json", "line 2: not valid JSON"),
    ('{"text": ""}', "line 2: "),
    ('{"txt": "hello"}', "line 2: "),
    ("[" * 100_000 + "]" * 100_000, "line 2: not valid JSON (nested too deeply)"),
])
def test_predict_names_the_bad_line_and_prints_nothing(env, line, message):
    result = run(["predict", "-m", "language", "-"], env, input=f'{{"text": "ok"}}\n{line}\n')
    assert result.exit_code == 1
    assert message in result.output
    assert '"label"' not in result.output


def test_predict_unknown_model(env):
    result = run(["predict", "-m", "nope", "-"], env, input='{"text": "x"}\n')
    assert result.exit_code == 1 and "unknown model 'nope'" in result.output


def test_train_builds_an_artifact_with_a_progress_bar(tmp_path, trained_language):
    env = {"PREDICTQ_DATA_DIR": str(tmp_path / "var")}
    result = run(["train", "language"], env)
    assert result.exit_code == 0, result.output
    assert "language: " in result.output and "5/5" in result.output
    version = trained_language.manifest.version
    assert f"trained language {version}" in result.output  # reproducible: same bytes
    assert (tmp_path / "var" / "models" / "language" / version / "model.joblib").is_file()


def test_train_unknown_model_fails_clearly(env):
    result = run(["train", "nope"], env)
    assert result.exit_code == 1 and "unknown model 'nope'" in result.output


def test_status_prints_queues_and_job_counts(env):
    result = run(["status"], env)
    assert result.exit_code == 0, result.output
    assert "predictq.text" in result.output and "jobs: queued 0" in result.output
    result = run(["status", "--json"], env)
    report = json.loads(result.output)
    assert report["queues"][0]["depth"] == 0 and report["jobs"]["done"] == 0
