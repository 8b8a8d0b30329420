"""The secrets contract: ``get(name) -> str`` or a :class:`SecretNotFoundError` naming the secret."""

from __future__ import annotations

import abc
from typing import ClassVar

from stepline.component import Component, Locality
from stepline.errors import SecretNotFoundError


class Secrets(Component, abc.ABC):
    kind: ClassVar[str] = "secrets"

    @property
    def locality(self) -> Locality:
        """Where the secrets can be read from; a file on this machine is MACHINE."""
        return Locality.NETWORK

    @abc.abstractmethod
    def get(self, name: str) -> str:
        """The secret's value; raise :meth:`missing` when there is none."""

    def environment_names(self, name: str) -> list[str]:
        """The environment variables of this process that hold secret ``name`` (none, unless the
        backend reads the environment): the step context removes them while a step that does not
        list the secret runs."""
        return []

    def missing(self, name: str, hint: str | None = None) -> SecretNotFoundError:
        return SecretNotFoundError(f"secret '{name}' is not in the {self.name} secrets backend",
                                   hint=hint or "add it there, or remove it from the step's 'secrets'")
