"""Errors a user can cause. Each one names the file, the step and the fix in one line."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class StepLineError(Exception):
    """Base of every error caused by input (pipeline, config, parameters, secrets, plugins).

    The CLI prints ``str(error)`` on one line and exits with ``exit_code``.
    """

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, step: str | None = None,
                 hint: str | None = None) -> None:
        self.message = message
        self.file = file
        self.step = step
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        parts = []
        if self.file:
            parts.append(f"{self.file}:")
        if self.step:
            parts.append(f"step '{self.step}':")
        parts.append(self.message)
        text = " ".join(parts)
        if self.hint:
            text += f" ({self.hint})"
        return text

    def with_context(self, *, file: str | None = None, step: str | None = None) -> StepLineError:
        """Fill in a file or step the raiser did not know about."""
        self.file = self.file or file
        self.step = self.step or step
        self.args = (self.render(),)
        return self

    def __str__(self) -> str:
        return self.render()


class PipelineDefinitionError(StepLineError):
    """The pipeline file or SDK graph is malformed."""


class ConfigError(StepLineError):
    """The configuration file is malformed or names an unknown component."""


class IntegrationError(StepLineError):
    """An executor and a service cannot work together."""


class ParameterError(StepLineError):
    """Parameters are missing or cannot be cast to what a task asks for."""


class SecretNotFoundError(StepLineError):
    """A task asked for a secret the secrets backend does not have."""


class PluginError(StepLineError):
    """A plugin is broken: a hook matching no spec, a duplicate component name."""


class RunNotFoundError(StepLineError):
    """A run id that no run log store knows."""


class StepEnvironmentError(StepLineError):
    """A step's environment (``uv:``, inline script metadata) cannot be built: uv is missing, a
    requirement cannot be resolved, a requirements file or interpreter does not exist."""


class NotSupportedError(StepLineError):
    """A feature that is accepted by the format but not built (yet) for this component."""


class ExecutionFailedError(StepLineError):
    """A run ended in FAIL: raised by ``Pipeline.execute()`` and ``Job.execute()`` (so a script that
    does not catch it exits non-zero). ``run_id`` names the run; ``run_log`` is its full record."""

    exit_code = 1

    def __init__(self, run_id: str, run_log=None, message: str | None = None, *, hint: str | None = None) -> None:
        self.run_id = run_id
        self.run_log = run_log
        super().__init__(message or f"run '{run_id}' failed", hint=hint)


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A hint naming the closest choice, or None."""
    import difflib  # only when there is an error to explain

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


class Interrupted(BaseException):
    """The run was stopped by a signal (SIGTERM); like KeyboardInterrupt for SIGINT."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by signal {signum}")


class TaskDefinitionError(StepLineError):
    """A task's definition cannot work (a function that does not import)."""


#: what YAML makes of an unquoted scalar that is not a string: ``true``, ``no``, ``12``, ``1.5``, ``~``
_YAML_READS = {bool: "a boolean", int: "a number", float: "a number", type(None): "null"}


def quote_hint(err: Mapping[str, Any]) -> str | None:
    """For pydantic's error ``err``: a string given as ``true``, ``12`` or ``~`` unquoted, which YAML
    read as something else, gets the fix."""
    read_as = _YAML_READS.get(type(err.get("input"))) if err.get("type") == "string_type" else None
    return f"YAML reads that value as {read_as}: put it in quotes" if read_as else None
