"""Per-step overhead: chains of N no-op steps through the CLI, on the default persistent store
(chunked-fs), best of ``--repeat`` runs: python steps; shell steps `true` (a plain command, started
without bash); shell steps `:` (bash's no-op: started in bash). Also `stepline --help` and `import
stepline`, and floors measured in the same run: one small atomic write + rename in the bench's
workspace (where the run log lives), each per-step cost also printed as that many writes' worth
("47 w"); and starting `true`, and `bash -c true`, from Python, each shell step also printed as its
floor plus what Stepline adds ("floor + 0.4 ms").

    uv run python bench/bench_steps.py [--repeat K] [N ...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from common import (
    STEPLINE,
    atomic_write_seconds,
    run_cli,
    spawn_seconds,
    startup_seconds,
    workspace,
    writes_worth,
)

#: The shell rows: a plain command (started without bash), and one bash itself must run.
SHELL_COMMANDS = {"shell": "true", "bash": ":"}
#: What each shell row's command costs at the least: starting that program and waiting for it.
FLOORS = {"shell": ("true",), "bash": ("bash", "-c", "true")}


def chain(kind: str, n: int) -> str:
    lines = ["dag:", "  start_at: s0", "  steps:"]
    for i in range(n):
        nxt = f"s{i + 1}" if i + 1 < n else "success"
        body = "{type: task, command: bench_steps.noop" if kind == "python" else \
            f"{{type: task, command_type: shell, command: '{SHELL_COMMANDS[kind]}'"
        lines.append(f"    s{i}: {body}, next: {nxt}}}")
    lines.append("    success: {type: success}")
    return "\n".join(lines) + "\n"


def timed(args: list[str], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(args, capture_output=True, check=True)
        best = min(best, time.perf_counter() - start)
    return best


def main(sizes: list[int], repeat: int = 3) -> None:
    folder = workspace()
    base = startup_seconds(folder)
    print(f"stepline --help        {timed([STEPLINE, '--help']) * 1000:7.0f} ms")
    print(f"import stepline        {timed([sys.executable, '-c', 'import stepline']) * 1000:7.0f} ms")
    print(f"execute (1 stub step)  {base * 1000:7.0f} ms  (fixed cost per run)")
    write = atomic_write_seconds(folder)
    floors = {kind: spawn_seconds(argv) for kind, argv in FLOORS.items()}
    print(f"floor: 1 atomic write  {write * 1e6:7.1f} µs  (1 KiB, O_EXCL temp file + os.replace, best of 5 x 200)")
    print(f"floor: spawn true      {floors['shell'] * 1000:7.2f} ms  (true by posix_spawn + waitpid, best of 5 x 100)")
    print(f"floor: spawn bash      {floors['bash'] * 1000:7.2f} ms  (bash -c true, the same way)")
    print(f"(the floors are measured again after every run; the columns use the best so far; each run is the"
          f" best of {repeat})")
    print(f"{'steps':>6} {'kind':>7} {'total s':>8} {'per step ms':>12} {'writes':>7}  above the floor")
    for n in sizes:
        for kind in ("python", "shell", "bash"):
            (folder / f"{kind}{n}.yaml").write_text(chain(kind, n))
            total = min(run_cli(folder, "execute", f"{kind}{n}.yaml")[0] for _ in range(repeat))
            write = min(write, atomic_write_seconds(folder))
            per_step = (total - base) / n
            line = f"{n:>6} {kind:>7} {total:>8.2f} {per_step * 1000:>12.2f} {writes_worth(per_step, write):>7}"
            if kind in floors:
                floor = floors[kind] = min(floors[kind], spawn_seconds(FLOORS[kind]))
                line += f"  floor {floor * 1000:.2f} + {(per_step - floor) * 1000:.2f} ms"
            print(line)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Per-step overhead of chains of no-op steps.")
    parser.add_argument("sizes", type=int, nargs="*", metavar="N", help="chain lengths (default 10 100 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each chain; the best is kept (default 3)")
    options = parser.parse_args()
    main(options.sizes or [10, 100, 1000], repeat=options.repeat)
