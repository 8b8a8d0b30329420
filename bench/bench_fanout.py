"""Fan-out scale: a map over M no-op python items (M = 100, 1,000, 10,000) and a parallel of
4 x `sleep 1`, through the CLI on the default chunked-fs store. Prints wall time and peak RSS, and
each per-item cost, (map run - one-stub run) / M, also as atomic writes' worth of the floor measured
in the same run (see bench_steps.py).

The one-stub run (the fixed cost) is timed again right before each map run, so a change of load
between the two moves both: the per-item figure is best map run - best stub run of the same rounds
(``--rounds``, default 9 for M <= 100, 5 for M <= 1,000, 1 above). Two more columns say how much of
it is the machine's noise: the median of the rounds' own (map - stub) differences, and the spread
of the stub runs (max - min) in ms per item, which at 100 items is often as large as the figure.
Then (map run - one-python-step run) / M, which leaves out what a run pays once for having a python
task at all (the task runtime's import, the task model, importing the user's module); and the same
per-item figure in CPU time (user + system of the CLI and its workers, best of the rounds), which a
busy machine moves less than the wall time (the map's workers run at once: CPU per item is about
twice the wall time per item on two free cores).

    uv run python bench/bench_fanout.py [--rounds K] [M ...]
"""

from __future__ import annotations

import argparse
import resource
import statistics

from common import atomic_write_seconds, run_cli, workspace, writes_worth

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


ONE = "dag: {start_at: a, steps: {a: {type: stub}}}\n"
ONE_PYTHON = "dag: {start_at: a, steps: {a: {type: task, command: bench_steps.noop}}}\n"


def timed(folder, *args: str) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (KiB) and CPU seconds (user + system, the process and its children) of
    one stepline call."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, rss = run_cli(folder, *args)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, rss, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def rounds_for(m: int, rounds: int | None) -> int:
    return rounds or (9 if m <= 100 else 5 if m <= 1000 else 1)


def main(sizes: list[int], rounds: int | None = None) -> None:
    folder = workspace()
    (folder / "one.yaml").write_text(ONE)
    (folder / "python.yaml").write_text(ONE_PYTHON)
    (folder / "map.yaml").write_text(MAP)
    run_cli(folder, "execute", "python.yaml")  # the first run of a folder writes caches: not timed
    write = atomic_write_seconds(folder)
    print(f"floor: 1 atomic write {write * 1e6:.1f} µs (measured again after every size, the writes "
          "column uses the best so far)")
    print(f"{'items':>7} {'rounds':>6} {'stub s':>7} {'total s':>8} {'per item ms':>12} {'writes':>7} "
          f"{'median ms':>10} {'stub spread ms':>15} {'vs python ms':>13} {'CPU ms':>7} {'peak RSS MiB':>13}")
    for m in sizes:
        (folder / f"params{m}.yaml").write_text(f"items: {list(range(m))}\n")
        stubs, pythons, maps, stub_cpu, map_cpu, rss = [], [], [], [], [], 0
        for _ in range(rounds_for(m, rounds)):
            wall, _, cpu = timed(folder, "execute", "one.yaml")
            stubs.append(wall)
            stub_cpu.append(cpu)
            pythons.append(run_cli(folder, "execute", "python.yaml")[0])
            total, peak, cpu = timed(folder, "execute", "map.yaml", "-p", f"params{m}.yaml")
            maps.append(total)
            map_cpu.append(cpu)
            rss = max(rss, peak)
        write = min(write, atomic_write_seconds(folder))
        per_item = (min(maps) - min(stubs)) / m
        median = statistics.median(t - s for t, s in zip(maps, stubs)) / m
        spread = (max(stubs) - min(stubs)) / m
        beyond_python = (min(maps) - min(pythons)) / m
        cpu_per_item = (min(map_cpu) - min(stub_cpu)) / m
        print(f"{m:>7} {len(maps):>6} {min(stubs):>7.3f} {min(maps):>8.3f} {per_item * 1000:>12.2f} "
              f"{writes_worth(per_item, write):>7} {median * 1000:>10.2f} {spread * 1000:>15.2f} "
              f"{beyond_python * 1000:>13.2f} {cpu_per_item * 1000:>7.2f} {rss / 1024:>13.0f}")
    (folder / "parallel.yaml").write_text(PARALLEL)
    (folder / "four.yaml").write_text("executor: {type: local, config: {max_workers: 4}}\n")
    total, _ = run_cli(folder, "execute", "parallel.yaml", "-c", "four.yaml")
    print(f"parallel 4 x sleep 1 (max_workers: 4): {total:.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=None, help="rounds per size (default 9 / 5 / 1)")
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 1000, 10000])
    args = parser.parse_args()
    main(args.sizes, args.rounds)
