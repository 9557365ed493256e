from __future__ import annotations

from pathlib import Path

import pytest

from predictq.settings import Settings, describe

README = Path(__file__).resolve().parents[2] / "README.md"


def test_defaults_need_no_servers():
    s = Settings.from_env({})
    assert s.uses_embedded_broker
    assert s.resolved_store_url.startswith("sqlite:////")
    assert s.port == 8000 and s.resolved_model_dir == Path("var/models")


def test_environment_overrides_and_types():
    s = Settings.from_env({"PREDICTQ_PORT": "9001", "PREDICTQ_MODEL_DIR": "/m",
                           "PREDICTQ_BROKER_URL": "amqp://h//", "PREDICTQ_BATCH_SIZE": "8"})
    assert (s.port, s.resolved_model_dir, s.batch_size) == (9001, Path("/m"), 8)
    assert not s.uses_embedded_broker


def test_a_bad_number_names_the_variable():
    with pytest.raises(ValueError, match="PREDICTQ_PORT"):
        Settings.from_env({"PREDICTQ_PORT": "eighty"})


def test_as_env_round_trips():
    s = Settings(port=1234, broker_url="amqp://x//", model_dir=Path("/models"))
    assert Settings.from_env(s.as_env()) == s


def test_readme_documents_every_setting():
    readme = README.read_text()
    for variable, _default, meaning in describe():
        assert f"| `{variable}` |" in readme, variable
        assert meaning in readme, variable


def test_a_float_setting_is_read_as_a_number():
    settings = Settings.from_env({"PREDICTQ_WAIT_MAX_S": "2.5"})
    assert settings.wait_max_s == 2.5
    with pytest.raises(ValueError, match="PREDICTQ_WAIT_MAX_S"):
        Settings.from_env({"PREDICTQ_WAIT_MAX_S": "soon"})
