"""Helpers shared by the benchmarks: make a pipeline in a temp folder and time the CLI on it."""

from __future__ import annotations

import atexit
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STEPLINE = str(Path(sys.executable).with_name("stepline"))

STEPS_PY = '''
def noop():
    return None

def item(x):
    return None
'''


def workspace() -> Path:
    """A scratch folder with the benchmark's task module, removed when the benchmark exits."""
    folder = Path(tempfile.mkdtemp(prefix="stepline-bench-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    (folder / "bench_steps.py").write_text(STEPS_PY)
    return folder


def run_cli(folder: Path, *args: str) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB, of the CLI and its children) of one stepline call."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run([STEPLINE, *args], cwd=folder, capture_output=True, text=True,
                          env={**os.environ})
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"stepline {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return elapsed, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def startup_seconds(folder: Path) -> float:
    """The fixed cost of one `stepline execute` of a one-stub pipeline."""
    (folder / "one.yaml").write_text("dag: {start_at: a, steps: {a: {type: stub}}}\n")
    return min(run_cli(folder, "execute", "one.yaml")[0] for _ in range(3))
