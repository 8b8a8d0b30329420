"""Per-step overhead: a chain of N no-op python steps and N `true` shell steps, through the CLI,
on the default persistent store (chunked-fs). Also `stepline --help` and `import stepline`, and the
floor measured in the same run: one small atomic write + rename in the bench's workspace (where the
run log lives); each per-step cost is also printed as that many writes' worth ("47 w").

    uv run python bench/bench_steps.py [N ...]
"""

from __future__ import annotations

import subprocess
import sys
import time

from common import STEPLINE, atomic_write_seconds, run_cli, startup_seconds, workspace, writes_worth


def chain(kind: str, n: int) -> str:
    lines = ["dag:", "  start_at: s0", "  steps:"]
    for i in range(n):
        nxt = f"s{i + 1}" if i + 1 < n else "success"
        body = "{type: task, command: bench_steps.noop" if kind == "python" else \
            "{type: task, command_type: shell, command: 'true'"
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


def main(sizes: list[int]) -> None:
    folder = workspace()
    base = startup_seconds(folder)
    print(f"stepline --help        {timed([STEPLINE, '--help']) * 1000:7.0f} ms")
    print(f"import stepline        {timed([sys.executable, '-c', 'import stepline']) * 1000:7.0f} ms")
    print(f"execute (1 stub step)  {base * 1000:7.0f} ms  (fixed cost per run)")
    write = atomic_write_seconds(folder)
    print(f"floor: 1 atomic write  {write * 1e6:7.1f} µs  (1 KiB, O_EXCL temp file + os.replace, best of 5 x 200;"
          " measured again after every run, the writes column uses the best so far)")
    print(f"{'steps':>6} {'kind':>7} {'total s':>8} {'per step ms':>12} {'writes':>7}")
    for n in sizes:
        for kind in ("python", "shell"):
            (folder / f"{kind}{n}.yaml").write_text(chain(kind, n))
            total, _ = run_cli(folder, "execute", f"{kind}{n}.yaml")
            write = min(write, atomic_write_seconds(folder))
            per_step = (total - base) / n
            print(f"{n:>6} {kind:>7} {total:>8.2f} {per_step * 1000:>12.2f} {writes_worth(per_step, write):>7}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10, 100, 1000])
