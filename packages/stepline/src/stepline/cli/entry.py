"""The ``stepline`` console entry point, with a fast path for ``execute`` and an engine's callbacks.

Building typer's command tree and converting its options costs about as much as the run of a small
pipeline, so a plain ``stepline [--debug] execute ...`` (or ``execute-single-node ...``, which every
step process of the emulator, containers, batch schedulers and engines runs, or ``start-run``,
``fan``, ``finish-run``, the other pods of a rendered run) is parsed here, without typer, and runs
the same function of :mod:`stepline.cli.execute` the typer command runs. The fast path
takes only argument lists it understands completely (the command's own options, each at most once in
a form click reads the same way); anything else (``--help``, an unknown or misspelled option, a missing
value, ``--``, shell completion) goes to the typer app, so help, errors and every option behave
exactly as they do there. ``tests/test_cli_entry.py`` checks both paths agree.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FastCommand:
    """What the fast path knows of one command: its arguments and options, spelled as typer's."""

    #: the function of :mod:`stepline.cli.execute` that runs it, given the parameters below
    runs: str
    #: positional parameters in order, and how many of them are required
    arguments: tuple[str, ...]
    required_arguments: int
    #: options that take a value: spelling -> parameter
    value_options: dict[str, str]
    #: flags: spelling -> (parameter, value)
    flags: dict[str, tuple[str, bool]] = field(default_factory=dict)
    #: parameters given more than once are appended (``-c a -c b``), not replaced
    repeatable: frozenset[str] = frozenset({"config"})
    #: options the command cannot run without (typer says so when one is missing)
    required_options: frozenset[str] = frozenset()
    defaults: dict[str, Any] = field(default_factory=dict)
    #: options typer converts to int (a value that is not one goes to typer, which says so)
    integers: frozenset[str] = frozenset()


CONFIG = {"--config": "config", "-c": "config"}
COMMANDS = {
    "execute": FastCommand(
        runs="execute_pipeline", arguments=("pipeline", "run_id_argument"), required_arguments=0,
        value_options={"--file": "file", "-f": "file", **CONFIG, "--parameters-file": "parameters",
                       "--parameters": "parameters", "-p": "parameters", "--run-id": "run_id", "--tag": "tag",
                       "--log-level": "log_level"},
        flags={"--progress": ("progress", True), "--no-progress": ("progress", False)},
        defaults={"pipeline": None, "run_id_argument": None, "file": None, "config": None, "parameters": None,
                  "run_id": None, "tag": "", "progress": True, "log_level": None}),
    # what every step process of the emulator, containers, batch schedulers and engines runs
    "execute-single-node": FastCommand(
        runs="execute_one_node", arguments=("run_id", "step"), required_arguments=2,
        value_options={"--file": "file", "-f": "file", **CONFIG, "--map-variable": "map_variable"},
        required_options=frozenset({"file"}), defaults={"config": None, "map_variable": None}),
    # the other callbacks of a rendered run, one pod (or state) each
    "start-run": FastCommand(
        runs="start_rendered_run", arguments=("run_id",), required_arguments=1,
        value_options={"--file": "file", "-f": "file", **CONFIG, "--parameters-file": "parameters",
                       "-p": "parameters", "--tag": "tag"},
        required_options=frozenset({"file"}), defaults={"config": None, "parameters": None, "tag": ""}),
    "finish-run": FastCommand(
        runs="finish_rendered_run", arguments=("run_id",), required_arguments=1,
        value_options={"--file": "file", "-f": "file", **CONFIG},
        required_options=frozenset({"file"}), defaults={"config": None}),
    "fan": FastCommand(
        runs="fan_composite", arguments=("run_id", "step", "direction"), required_arguments=3,
        value_options={"--file": "file", "-f": "file", **CONFIG, "--iteration": "iteration",
                       "--output-file": "output_file"},
        required_options=frozenset({"file"}), integers=frozenset({"iteration"}),
        defaults={"config": None, "iteration": None, "output_file": None}),
}


def parse_fast(args: list[str]) -> tuple[bool, FastCommand, dict[str, Any]] | None:
    """``(debug, command, its keyword arguments)`` for ``[--debug] COMMAND ...`` of a command in
    :data:`COMMANDS`, or None when the typer app must handle ``args`` (any other command, or anything
    this parser does not read exactly as click does)."""
    debug = bool(args) and args[0] == "--debug"
    rest = args[1:] if debug else args
    command = COMMANDS.get(rest[0]) if rest else None
    if command is None:
        return None
    found: dict[str, Any] = {}
    positional: list[str] = []
    tokens = iter(rest[1:])
    for token in tokens:
        name, value = token, None
        if token.startswith("--") and "=" in token:
            name, value = token.split("=", 1)
        if name in command.value_options:
            if value is None:
                value = next(tokens, None)
            # click would take "-x" as the value, or fail on a missing one: let it say so
            if not value or value.startswith("-"):
                return None
            key = command.value_options[name]
            if key in command.integers:
                try:
                    value = int(value)
                except ValueError:
                    return None
            if key in command.repeatable:
                found.setdefault(key, []).append(value)
                continue
        elif name in command.flags and value is None:
            key, value = command.flags[name]
        elif not token or token.startswith("-") or len(positional) == len(command.arguments):
            return None  # an unknown option, "-", "--", an empty or extra argument
        else:
            positional.append(token)
            continue
        if key in found:
            return None
        found[key] = value
    if len(positional) < command.required_arguments or not command.required_options <= found.keys():
        return None
    return debug, command, {**command.defaults, **found, **dict(zip(command.arguments, positional))}


def main() -> None:
    """Console entry point: the fast path of the commands in :data:`COMMANDS`, else the typer app."""
    from stepline.cli import collector

    collector.pause()  # until the command has loaded what it needs (see stepline.cli.collector)
    from stepline.cli.guard import run_guarded

    parsed = None if os.environ.get("_STEPLINE_COMPLETE") else parse_fast(sys.argv[1:])
    if parsed is None:
        from stepline.cli.app import app

        collector.resume()
        run_guarded(app)
    debug, command, arguments = parsed
    if debug:
        os.environ["STEPLINE_DEBUG"] = "1"
    run_guarded(lambda: _end_as_click_does(command, arguments))


def _end_as_click_does(command: FastCommand, arguments: dict[str, Any]) -> None:
    """Run the command and exit the way click's standalone mode ends a command, so the fast path
    is indistinguishable from the typer app: Ctrl-C exits 130, EOF on stdin prints ``Aborted!``,
    a closed pipe on stdout exits 1 quietly."""
    import errno

    from stepline.plugins.entry_points import settle_pydantic_plugins

    settle_pydantic_plugins()  # before the first model is built
    from stepline.cli import execute

    try:
        code = getattr(execute, command.runs)(**arguments)
    except KeyboardInterrupt:
        sys.exit(130)
    except EOFError:
        print(file=sys.stderr)
        print("Aborted!", file=sys.stderr)
        sys.exit(1)
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        from typer._click.utils import PacifyFlushWrapper

        sys.stdout = PacifyFlushWrapper(sys.stdout)
        sys.stderr = PacifyFlushWrapper(sys.stderr)
        sys.exit(1)
    sys.exit(code)
