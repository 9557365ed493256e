"""`predictq keys create|list|revoke` on the deployment's store: the secret is printed
once and works against the API; list never shows it; a revoked key is refused."""

from __future__ import annotations

import json

from click.testing import CliRunner

from api.app import create_app
from predictq import apikeys
from predictq.cli import main
from predictq.services import Services
from predictq.settings import Settings


def run(args, env):
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def test_create_list_revoke(tmp_path, model_dir, monkeypatch):
    env = {"PREDICTQ_DATA_DIR": str(tmp_path), "PREDICTQ_API_KEYS": "on",
           "PREDICTQ_MODEL_DIR": str(model_dir), "PREDICTQ_BROKER_URL": "memory://"}
    made = run(["keys", "create", "--scope", "submit", "--scope", "read", "--name", "ci"], env)
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    assert secret.startswith("pqk_") and "\n" not in secret
    assert "shown once" in made.stderr

    listed = run(["keys", "list", "--json"], env)
    (key,) = json.loads(listed.stdout)
    assert (key["scopes"], key["name"], key["revoked_at"]) == (["submit", "read"], "ci", None)
    assert secret not in listed.stdout and secret[:8] == key["prefix"]
    assert key["key_id"] in run(["keys", "list"], env).stdout

    monkeypatch.setattr(apikeys, "CACHE_S", 0.0)
    services = Services.build(Settings.from_env(env))
    try:
        client = create_app(services=services).test_client()
        headers = {"Authorization": f"Bearer {secret}"}
        assert client.get("/v1/models", headers=headers).status_code == 200
        assert run(["keys", "revoke", key["key_id"]], env).exit_code == 0
        assert client.get("/v1/models", headers=headers).status_code == 401
    finally:
        services.close()

    assert json.loads(run(["keys", "list", "--json"], env).stdout)[0]["revoked_at"]
    missing = CliRunner().invoke(main, ["keys", "revoke", "nope"], env=env)
    assert missing.exit_code == 1 and "no API key 'nope'" in missing.output


def test_an_unknown_scope_is_refused(tmp_path):
    result = CliRunner().invoke(main, ["keys", "create", "--scope", "root"],
                                env={"PREDICTQ_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2 and "root" in result.output
