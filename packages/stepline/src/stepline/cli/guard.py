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
        command()
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
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if os.environ.get("STEPLINE_DEBUG"):
            raise
        text = " ".join(str(exc).split())[:300]
        print(f"error: internal error: {type(exc).__name__}: {text} (run with --debug for the traceback, "
              "and please report it)", file=sys.stderr)
        sys.exit(70)
    sys.exit(0)
