"""The fixed cost of a ``stepline`` command, through the CLI, default config (chunked-fs):

* ``stepline execute`` of a one-stub pipeline in a fresh folder, and in one holding 1,000 earlier runs
  in ``.stepline/runs`` (start-up must not grow with the history);
* ``stepline runs list`` over those 1,000 runs;
* ``stepline --help`` and ``import stepline``.

    uv run --no-sync python bench/bench_startup.py [--runs 1000] [--repeat 7]

Each figure is the best of ``--repeat`` runs, all taken in turn (A B C ... A B C) so a busy moment of the
machine hits them alike. Targets of issue 19: execute < 0.2 s, --help < 0.1 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from common import STEPLINE, run_cli, workspace

ONE = "dag: {start_at: a, steps: {a: {type: stub}}}\n"


def fill_history(folder: Path, runs: int) -> None:
    """``runs`` finished runs in ``folder/.stepline/runs``: one is executed, the rest are copies of it
    under their own run ids (executing 1,000 runs would take minutes)."""
    run_cli(folder, "execute", "one.yaml", "--run-id", "seed")
    seed = folder / ".stepline" / "runs" / "seed"
    for i in range(runs - 1):
        run_id = f"20260101-{i // 3600:02d}{i // 60 % 60:02d}{i % 60:02d}-{i:010x}"
        target = seed.with_name(run_id)
        target.mkdir()
        for record in seed.iterdir():
            (target / record.name).write_text(record.read_text().replace('"seed"', f'"{run_id}"'))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    fresh, history = workspace(), workspace()
    for folder in (fresh, history):
        (folder / "one.yaml").write_text(ONE)
    fill_history(history, args.runs)
    listed = subprocess.run([STEPLINE, "runs", "list"], cwd=history, capture_output=True, text=True, check=True)
    assert len(listed.stdout.splitlines()) == args.runs, listed.stdout[-500:]
    figures = {
        "execute, fresh folder": (fresh, [STEPLINE, "execute", "one.yaml"]),
        f"execute, {args.runs} runs before": (history, [STEPLINE, "execute", "one.yaml"]),
        f"runs list, {args.runs} runs": (history, [STEPLINE, "runs", "list"]),
        "--help": (fresh, [STEPLINE, "--help"]),
        "import stepline": (fresh, [sys.executable, "-c", "import stepline"]),
    }
    best = dict.fromkeys(figures, float("inf"))
    for _ in range(args.repeat):
        for name, (folder, command) in figures.items():
            start = time.perf_counter()
            subprocess.run(command, cwd=folder, capture_output=True, check=True, env={**os.environ})
            best[name] = min(best[name], time.perf_counter() - start)
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores); best of {args.repeat}")
    for name, seconds in best.items():
        print(f"{name:<26} {seconds * 1000:7.0f} ms")


if __name__ == "__main__":
    main()
