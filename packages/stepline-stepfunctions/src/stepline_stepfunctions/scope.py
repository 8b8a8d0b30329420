"""Where a graph's states live, and how step paths join."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    """Where a graph's states live: ``rel`` is the static part of the branch prefix; when
    ``dynamic`` the prefix starts with the value of ``$.branch`` in the state input."""

    dynamic: bool
    rel: str
    template: str  # the internal-name template of the branch ('process.*'), for state names
    top: bool = False


def join(a: str, b: str) -> str:
    return f"{a}.{b}" if a else b
