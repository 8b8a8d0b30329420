"""The cyclic garbage collector, paused while a command starts.

Start-up builds tens of thousands of long-lived objects (pydantic models and their validators, plugin
tables, the parsed pipeline) and next to no garbage cycles, yet with the collector on it walked them
some seventy times before the first step of a one-step run: about a twentieth of that run's wall time.
The console entry pauses it first thing; the command resumes it once what it needs is loaded and
before any user code runs, after moving everything start-up built out of its sight (``gc.freeze``:
those objects live as long as the process anyway, and a forked worker then shares their pages).
A command that runs no user code (an engine's ``start-run``, ``fan`` and ``finish-run`` callbacks)
leaves it paused: it ends within seconds, and reference counting frees what it builds.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Stop automatic collections (if they run) until :func:`resume`."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Start automatic collections again, if :func:`pause` stopped them; what is alive now is
    frozen first. A no-op otherwise (a command called from a test or the SDK never paused)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
