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
ROOT = Path(__file__).resolve().parent.parent


def compile_sources() -> None:
    """Write the bytecode of the workspace's sources, as a user's first run does. Where
    ``PYTHONDONTWRITEBYTECODE`` is set (as on the project's CI machines), a module edited since
    ``make setup`` would otherwise be compiled again in every timed process: tens of milliseconds
    that no installed Stepline pays."""
    import compileall

    for src in sorted(ROOT.glob("packages/*/src")):
        compileall.compile_dir(src, quiet=1)


compile_sources()
RECORD = b"x" * 1024  # about the size of one step record

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
    done = subprocess.run([STEPLINE, *args], check=False, cwd=folder, capture_output=True, text=True,
                          env={**os.environ})
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"stepline {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return elapsed, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def startup_seconds(folder: Path) -> float:
    """The fixed cost of one `stepline execute` of a one-stub pipeline."""
    (folder / "one.yaml").write_text("dag: {start_at: a, steps: {a: {type: stub}}}\n")
    return min(run_cli(folder, "execute", "one.yaml")[0] for _ in range(3))


def atomic_write_seconds(folder: Path, writes: int = 200, batches: int = 5) -> float:
    """The floor of a step's cost: seconds of one small atomic write + rename, the way the run log
    stores write a record (a temp file created with O_EXCL next to a new target, ~1 KiB written,
    closed, ``os.replace``), in ``folder`` (give the bench's workspace: the run log lives there).
    Best of ``batches`` batches of ``writes`` writes, each batch in a fresh sub-folder. The files are
    left there until the workspace is removed at exit: on ext4, creating a file walks past every
    inode of its block group deleted in the last minutes, so deleting them here would slow the very
    runs the floor is compared with."""
    best = float("inf")
    for batch in range(batches):
        target = folder / ".stepline" / "floor" / f"batch{batch}-{os.getpid()}-{time.monotonic_ns()}"
        target.mkdir(parents=True)
        start = time.perf_counter()
        for i in range(writes):
            fd, tmp = tempfile.mkstemp(dir=target, prefix=".tmp-")  # O_CREAT | O_EXCL
            os.write(fd, RECORD)
            os.close(fd)
            os.replace(tmp, target / f"{i}.json")
        best = min(best, (time.perf_counter() - start) / writes)
    return best


def spawn_seconds(argv: tuple[str, ...] = ("bash", "-c", "true"), spawns: int = 100, batches: int = 5) -> float:
    """The floor of a shell step's cost: seconds to start ``argv`` (found on PATH) and wait for it, the
    cheapest way Python can (``os.posix_spawn`` and ``waitpid``, with this process's environment, no
    pipes); best of ``batches`` batches of ``spawns``. Elsewhere than Linux, ``subprocess.run``."""
    program = shutil.which(argv[0]) or argv[0]
    env = dict(os.environ)

    def spawn() -> None:
        if sys.platform.startswith("linux"):
            os.waitpid(os.posix_spawn(program, list(argv), env), 0)
        else:
            subprocess.run([program, *argv[1:]], env=env, check=True)

    best = float("inf")
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(spawns):
            spawn()
        best = min(best, (time.perf_counter() - start) / spawns)
    return best


def writes_worth(seconds: float, write: float) -> str:
    """A cost as a number of atomic writes (``seconds / write``), e.g. ``"47 w"``."""
    return f"{seconds / write:.0f} w" if write > 0 else "? w"
