"""What task code can ask of the running step: its secrets, and metrics to track."""

from __future__ import annotations

import contextvars
import os
from typing import TYPE_CHECKING, Any

from stepline.errors import SecretNotFoundError

if TYPE_CHECKING:
    from stepline.tasks.base import Invocation

_ACTIVE: contextvars.ContextVar[Invocation | None] = contextvars.ContextVar("stepline_step", default=None)


class active_step:  # used as a function; a class is cheaper than a generator on the step path
    """For the block, ``invocation`` is the step that :func:`get_secret` and :func:`track` serve."""

    __slots__ = ("invocation", "token")

    def __init__(self, invocation: Invocation) -> None:
        self.invocation = invocation

    def __enter__(self) -> None:
        self.token = _ACTIVE.set(self.invocation)

    def __exit__(self, *exc) -> None:
        _ACTIVE.reset(self.token)


def get_secret(name: str) -> str:
    """A secret the step lists in ``secrets:``. Outside a run, the environment variable ``name``."""
    invocation = _ACTIVE.get()
    if invocation is not None:
        if name in invocation.secrets:
            return invocation.secrets[name]
        raise SecretNotFoundError(f"secret '{name}' is not listed in the step's 'secrets'", step=invocation.step,
                                  hint=f"add it: secrets: [{name}]")
    if name in os.environ:
        return os.environ[name]
    raise SecretNotFoundError(f"secret '{name}' is not set (no run is active, so it is read from the environment)")


def track(name: str, value: Any, step: int | None = None) -> None:
    """Record a metric for the running step (run log and experiment tracker). No-op outside a run."""
    invocation = _ACTIVE.get()
    if invocation is None:
        return
    if step is None:
        invocation.metrics[name] = value
    else:
        series = invocation.metrics.setdefault(name, [])
        if not isinstance(series, list):
            series = invocation.metrics[name] = [{"step": None, "value": series}]
        series.append({"step": step, "value": value})
