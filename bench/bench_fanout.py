"""Fan-out scale: a map over M no-op python items (M = 100, 1,000, 10,000) and a parallel of
4 x `sleep 1`, through the CLI on the default chunked-fs store. Prints wall time (the best of 5 runs
for M <= 1,000, one run above) and peak RSS, and each per-item cost as atomic writes' worth of the
floor measured in the same run (see bench_steps.py).

    uv run python bench/bench_fanout.py [M ...]
"""

from __future__ import annotations

import sys

from common import atomic_write_seconds, run_cli, startup_seconds, workspace, writes_worth

MAP = """dag:
  start_at: fan
  steps:
    fan:
      type: map
      iterate_on: items
      iterate_as: x
      branch:
        start_at: work
        steps:
          work: {type: task, command: bench_steps.item}
"""

PARALLEL = """dag:
  start_at: fork
  steps:
    fork:
      type: parallel
      branches:
""" + "".join(f"""        b{i}:
          start_at: s
          steps:
            s: {{type: task, command_type: shell, command: sleep 1}}
""" for i in range(4))


def main(sizes: list[int]) -> None:
    folder = workspace()
    base = startup_seconds(folder)
    (folder / "map.yaml").write_text(MAP)
    write = atomic_write_seconds(folder)
    print(f"fixed cost of a run: {base:.2f} s; floor: 1 atomic write {write * 1e6:.1f} µs "
          "(measured again after every run, the writes column uses the best so far)")
    print(f"{'items':>7} {'total s':>8} {'per item ms':>12} {'writes':>7} {'peak RSS MiB':>13}")
    for m in sizes:
        (folder / f"params{m}.yaml").write_text(f"items: {list(range(m))}\n")
        # best of several for the short maps, whose noise is largest (as the fixed cost above)
        runs = [run_cli(folder, "execute", "map.yaml", "-p", f"params{m}.yaml") for _ in range(5 if m <= 1000 else 1)]
        total, rss = min(t for t, _ in runs), max(r for _, r in runs)
        write = min(write, atomic_write_seconds(folder))
        per_item = (total - base) / m
        print(f"{m:>7} {total:>8.2f} {per_item * 1000:>12.2f} {writes_worth(per_item, write):>7} {rss / 1024:>13.0f}")
    (folder / "parallel.yaml").write_text(PARALLEL)
    (folder / "four.yaml").write_text("executor: {type: local, config: {max_workers: 4}}\n")
    total, _ = run_cli(folder, "execute", "parallel.yaml", "-c", "four.yaml")
    print(f"parallel 4 x sleep 1 (max_workers: 4): {total:.2f} s")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 1000, 10000])
