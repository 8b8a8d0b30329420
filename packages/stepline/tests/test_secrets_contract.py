"""The secrets contract kit, run against the core's ``env`` and ``dotenv`` backends."""

from __future__ import annotations

import pytest
from stepline.errors import ConfigError
from stepline.secrets.base import Secrets
from stepline.secrets.builtin import DotEnvSecrets, EnvSecrets
from stepline.testing.secrets import KNOWN_SECRETS, SecretsContract


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


# ---- the kit catches broken backends -----------------------------------------------------------------
class _Broken(Secrets):
    name = "broken"

    def __init__(self, values, flaw):
        super().__init__()
        self.values, self.flaw = values, flaw

    def get(self, name):
        if name in self.values:
            value = self.values[name]
            return len(value) if self.flaw == "not-a-string" else value
        if self.flaw == "key-error":
            raise KeyError(name)
        if self.flaw == "leaks":
            raise self.missing(name, hint=f"known: {self.values}")
        raise self.missing(name)


@pytest.mark.parametrize("flaw, check", [
    ("not-a-string", "test_values_are_strings"),
    ("key-error", "test_missing_secret_raises_secret_not_found"),
    ("leaks", "test_missing_secret_message_holds_no_value"),
])
def test_the_kit_fails_a_broken_backend(flaw, check):
    backend = _Broken(dict(KNOWN_SECRETS), flaw)
    getattr(SecretsContract(), check)(_Broken(dict(KNOWN_SECRETS), None))  # a sound one passes
    with pytest.raises((AssertionError, KeyError)):
        getattr(SecretsContract(), check)(backend)
