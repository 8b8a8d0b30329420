"""Per-step cost of a step with its own environment (``uv:``), warm cache, against an in-process step:
a chain of N python steps through the CLI, each way. The environment is built once before timing
(from a local wheel, offline); the difference per step is the overhead of running an attempt in
the environment's interpreter.

    uv run python bench/bench_envs.py [N ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from common import run_cli, startup_seconds, workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "packages" / "stepline" / "tests"))
from test_uv_environments import make_wheel


def chain(n: int, uv: bool) -> str:
    lines = ["dag:", "  start_at: s0", "  steps:"]
    spec = ', uv: {dependencies: ["benchpkg==1.0"]}' if uv else ""
    for i in range(n):
        nxt = f"s{i + 1}" if i + 1 < n else "success"
        lines.append(f"    s{i}: {{type: task, command: bench_steps.noop{spec}, next: {nxt}}}")
    lines.append("    success: {type: success}")
    return "\n".join(lines) + "\n"


def main(sizes: list[int]) -> None:
    folder = workspace()
    wheels = folder / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "benchpkg", "1.0", "VERSION = '1.0'\n")
    os.environ.update(UV_NO_INDEX="1", UV_FIND_LINKS=str(wheels), STEPLINE_ENVS_DIR=str(folder / "envs"),
                      UV_CACHE_DIR=os.environ.get("UV_CACHE_DIR") or tempfile.mkdtemp(prefix="bench-uv-cache-"))
    (folder / "warm.yaml").write_text(chain(1, uv=True))
    build, _ = run_cli(folder, "execute", "warm.yaml")
    base = startup_seconds(folder)
    print(f"first run (builds the environment)  {build:6.2f} s")
    print(f"{'steps':>6} {'in-process ms/step':>19} {'uv ms/step':>11} {'overhead ms/step':>17}")
    for n in sizes:
        per = {}
        for uv in (False, True):
            name = f"{'uv' if uv else 'plain'}{n}.yaml"
            (folder / name).write_text(chain(n, uv))
            total = min(run_cli(folder, "execute", name)[0] for _ in range(3))
            per[uv] = (total - base) / n * 1000
        print(f"{n:>6} {per[False]:>19.1f} {per[True]:>11.1f} {per[True] - per[False]:>17.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Per-step cost of a step with its own uv environment.")
    parser.add_argument("sizes", type=int, nargs="*", metavar="N", help="chain lengths (default 5 20)")
    main(parser.parse_args().sizes or [5, 20])
