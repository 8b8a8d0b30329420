"""Progress of a running pipeline on stderr: one line per finished step.

In an interactive terminal the lines are coloured with rich (imported only then); otherwise they
are plain text. Step names and messages are always passed to rich as :class:`rich.text.Text`, never
as markup, and task output never goes through rich at all (it is written by the step as it is).
Each line is printed by the process that ran the step, so forked workers report their own steps.
"""

from __future__ import annotations

import os
import sys
import time
from typing import IO

STYLES = {"SUCCESS": "green", "FAIL": "bold red", "SKIPPED": "cyan", "MOCKED": "magenta"}


def wants_colour(stream: IO[str]) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class StepProgress:
    """A step observer (see ``RunContext.step_observers``)."""

    def __init__(self, stream: IO[str] | None = None, colour: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.colour = wants_colour(self.stream) if colour is None else colour
        self._console = None

    def label(self, run, internal_name: str, node, status) -> str:
        value = getattr(status, "value", str(status))
        if value == "SUCCESS" and not node.composite:
            if internal_name in run.original_steps:
                return "SKIPPED"
            if run.executor.name == "mocked" and node.type == "task" and run.executor.patch_for(internal_name) is None:
                return "MOCKED"
        return value

    def line(self, label: str, internal_name: str, node, seconds: float) -> tuple[str, str, str]:
        from stepline.cli.summary import format_duration

        kind = f" [{node.type}]" if node.composite else ""
        return time.strftime("%H:%M:%S"), f"{label:<7}", f"{internal_name}{kind}  {format_duration(seconds)}"

    def __call__(self, run, internal_name: str, node, status, seconds: float) -> None:
        label = self.label(run, internal_name, node, status)
        clock, word, rest = self.line(label, internal_name, node, seconds)
        if not self.colour:
            self.stream.write(f"{clock} {word} {rest}\n")
            self.stream.flush()
            return
        from rich.text import Text

        if self._console is None or self._console_pid != os.getpid():
            from rich.console import Console

            self._console = Console(file=self.stream, force_terminal=True, highlight=False, markup=False,
                                    emoji=False, soft_wrap=True)
            self._console_pid = os.getpid()
        text = Text()
        text.append(clock + " ", style="dim")
        text.append(word, style=STYLES.get(label, "yellow"))
        text.append(" " + rest)
        self._console.print(text)
