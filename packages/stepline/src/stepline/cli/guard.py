"""How every ``stepline`` command ends: one-line errors, truthful exit codes, no traceback unless
``--debug``. Shared by the typer app and the fast path of ``execute`` so both end the same way."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import NoReturn


def run_guarded(command: Callable[[], object]) -> NoReturn:
    """Call ``command`` (which exits through ``SystemExit``) and turn what escapes it into one line
    on stderr and the exit code the project promises."""
    from stepline.errors import Interrupted, StepLineError

    try:
        _run_then_freeze(command)
    except KeyboardInterrupt:
        print("stepline: interrupted", file=sys.stderr)
        sys.exit(130)
    except Interrupted as exc:
        print("stepline: interrupted", file=sys.stderr)
        sys.exit(128 + exc.signum)
    except StepLineError as exc:
        if os.environ.get("STEPLINE_DEBUG"):
            import traceback

            traceback.print_exc()
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if os.environ.get("STEPLINE_DEBUG"):
            raise
        text = " ".join(str(exc).split())[:300]
        print(f"error: internal error: {type(exc).__name__}: {text} (run with --debug for the traceback, "
              "and please report it)", file=sys.stderr)
        sys.exit(70)
    sys.exit(0)


def one_line(text: str) -> str:
    """``text`` on one line: a message that quotes a user's multi-line exception keeps its words."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _run_then_freeze(command: Callable[[], object]) -> None:
    """Run ``command``; however it ends, move every object alive then out of the cyclic garbage
    collector's sight. The interpreter's shutdown still runs as usual (atexit handlers, thread joins,
    flushing, module teardown), but its collections no longer traverse the tens of thousands of
    objects pydantic and the plugins built: that was a sixth of a one-step run's wall time."""
    try:
        command()
    finally:
        import gc

        gc.freeze()
