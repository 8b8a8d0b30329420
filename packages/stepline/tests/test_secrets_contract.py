"""The secrets contract kit, run against the core's ``env`` and ``dotenv`` backends."""

from __future__ import annotations

import pytest
from stepline.errors import ConfigError
from stepline.secrets.builtin import DotEnvSecrets, EnvSecrets
from stepline.testing.secrets import SecretsContract


class TestEnvSecrets(SecretsContract):
    @pytest.fixture
    def make_secrets(self, monkeypatch):
        def make(values):
            for name, value in values.items():
                monkeypatch.setenv(f"SLTEST_{name}_V", value)
            return EnvSecrets.from_config({"prefix": "SLTEST_", "suffix": "_V"})

        return make


class TestEnvSecretsWithoutPrefix(SecretsContract):
    @pytest.fixture
    def make_secrets(self, monkeypatch):
        def make(values):
            for name, value in values.items():
                monkeypatch.setenv(name, value)
            return EnvSecrets.from_config({})

        return make


class TestDotEnvSecrets(SecretsContract):
    @pytest.fixture
    def make_secrets(self, tmp_path):
        def make(values):
            path = tmp_path / "secrets.env"
            # single quotes: no interpolation, '#' and spaces kept
            path.write_text("".join(f"{name}='{value}'\n" for name, value in values.items()))
            return DotEnvSecrets.from_config({"location": str(path)})

        return make


def test_dotenv_missing_file_is_a_config_error(tmp_path):
    backend = DotEnvSecrets.from_config({"location": str(tmp_path / "absent.env")})
    with pytest.raises(ConfigError, match="absent.env"):
        backend.get("API_KEY")
