"""The ``stepline`` console entry point, with a fast path for ``execute``.

Building typer's command tree and converting its options costs about as much as the run of a small
pipeline, so a plain ``stepline [--debug] execute ...`` is parsed here, without typer, and runs the
same :func:`stepline.cli.execute.execute_pipeline` the typer command runs. The fast path takes only
argument lists it understands completely (the options of ``execute``, each at most once in a form
click reads the same way); anything else (``--help``, an unknown or misspelled option, a missing
value, ``--``, shell completion) goes to the typer app, so help, errors and every option behave
exactly as they do there. ``tests/test_cli_entry.py`` checks both paths agree.
"""

from __future__ import annotations

import os
import sys
from typing import Any

#: ``execute``'s options that take a value: spelling -> parameter of ``execute_pipeline``.
VALUE_OPTIONS = {
    "--file": "file", "-f": "file",
    "--config": "config", "-c": "config",
    "--parameters-file": "parameters", "-p": "parameters",
    "--run-id": "run_id",
    "--tag": "tag",
}
#: ``execute``'s flags: spelling -> (parameter, value).
FLAGS = {"--progress": ("progress", True), "--no-progress": ("progress", False)}
#: Options given more than once: appended (``-c a -c b``), not replaced.
REPEATABLE = {"config"}
DEFAULTS: dict[str, Any] = {"pipeline": None, "file": None, "config": None, "parameters": None, "run_id": None,
                            "tag": "", "progress": True}


def parse_execute(args: list[str]) -> tuple[bool, dict[str, Any]] | None:
    """``(debug, execute_pipeline's keyword arguments)`` for ``[--debug] execute ...``, or None when
    the typer app must handle ``args`` (any other command, or anything this parser does not read
    exactly as click does)."""
    debug = bool(args) and args[0] == "--debug"
    rest = args[1:] if debug else args
    if not rest or rest[0] != "execute":
        return None
    found: dict[str, Any] = {}
    tokens = iter(rest[1:])
    for token in tokens:
        name, value = token, None
        if token.startswith("--") and "=" in token:
            name, value = token.split("=", 1)
        if name in VALUE_OPTIONS:
            if value is None:
                value = next(tokens, None)
            # click would take "-x" as the value, or fail on a missing one: let it say so
            if not value or value.startswith("-"):
                return None
            key = VALUE_OPTIONS[name]
            if key in REPEATABLE:
                found.setdefault(key, []).append(value)
                continue
        elif name in FLAGS and value is None:
            key, value = FLAGS[name]
        elif not token or token.startswith("-") or "pipeline" in found:
            return None  # an unknown option, "-", "--", an empty or second argument
        else:
            key, value = "pipeline", token
        if key in found:
            return None
        found[key] = value
    return debug, {**DEFAULTS, **found}


def main() -> None:
    """Console entry point: the fast path of ``execute``, else the typer app."""
    from stepline.cli.guard import run_guarded

    parsed = None if os.environ.get("_STEPLINE_COMPLETE") else parse_execute(sys.argv[1:])
    if parsed is None:
        from stepline.cli.app import app

        run_guarded(app)
    debug, arguments = parsed
    if debug:
        os.environ["STEPLINE_DEBUG"] = "1"
    run_guarded(lambda: _end_as_click_does(arguments))


def _end_as_click_does(arguments: dict[str, Any]) -> None:
    """Run ``execute`` and exit the way click's standalone mode ends a command, so the fast path
    is indistinguishable from the typer app: Ctrl-C exits 130, EOF on stdin prints ``Aborted!``,
    a closed pipe on stdout exits 1 quietly."""
    import errno

    from stepline.cli.execute import execute_pipeline

    try:
        code = execute_pipeline(**arguments)
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
