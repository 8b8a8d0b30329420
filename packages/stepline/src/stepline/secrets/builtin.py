"""Built-in secrets backends: environment variables, a .env file, and none."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from stepline.component import Locality, Settings
from stepline.errors import ConfigError
from stepline.secrets.base import Secrets


class DoNothingSecrets(Secrets):
    """No secrets at all: asking for one is an error."""

    name: ClassVar[str] = "do-nothing"

    def get(self, name: str) -> str:
        raise self.missing(name, hint="configure a secrets backend such as env or dotenv")


class EnvSecretsSettings(Settings):
    prefix: str = ""
    suffix: str = ""


class EnvSecrets(Secrets):
    """Secrets from this process's environment (``prefix + NAME + suffix``)."""

    name: ClassVar[str] = "env"
    Settings: ClassVar[type[Settings]] = EnvSecretsSettings

    @property
    def locality(self) -> Locality:
        return Locality.NETWORK  # each process has an environment, wherever it runs

    def environment_names(self, name: str) -> list[str]:
        return [f"{self.settings.prefix}{name}{self.settings.suffix}"]

    def get(self, name: str) -> str:
        key = f"{self.settings.prefix}{name}{self.settings.suffix}"
        try:
            return os.environ[key]
        except KeyError:
            raise self.missing(name, hint=f"export {key}=... before the run") from None


class DotEnvSettings(Settings):
    location: str = ".env"


class DotEnvSecrets(Secrets):
    """Secrets from a ``.env`` file (``NAME=value`` lines), read once."""

    name: ClassVar[str] = "dotenv"
    Settings: ClassVar[type[Settings]] = DotEnvSettings

    def __init__(self, settings=None) -> None:
        super().__init__(settings)
        self._values: dict[str, str | None] | None = None

    @property
    def locality(self) -> Locality:
        return Locality.MACHINE

    def local_paths(self) -> list[str]:
        return [self.settings.location]

    def get(self, name: str) -> str:
        if self._values is None:
            path = Path(self.settings.location)
            if not path.is_file():
                raise ConfigError(f"the dotenv secrets file '{path}' does not exist",
                                  hint="create it, or set secrets.config.location")
            from dotenv import dotenv_values

            self._values = dict(dotenv_values(path))
        value = self._values.get(name)
        if value is None:
            raise self.missing(name, hint=f"add {name}=... to {self.settings.location}")
        return value
