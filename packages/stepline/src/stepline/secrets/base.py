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

    def missing(self, name: str, hint: str | None = None) -> SecretNotFoundError:
        return SecretNotFoundError(f"secret '{name}' is not in the {self.name} secrets backend",
                                   hint=hint or "add it there, or remove it from the step's 'secrets'")
