"""Benchmark the run log stores: N step-log writes into one run, then one assembled get_run_log;
and a pipeline with an M-item map run through the CLI (`stepline execute`, then `runs show --json`).

    uv run python bench/bench_stores.py [--steps 10000] [--map-items 1000] [--threads 1] [--only chunked-fs,...]

Stores: chunked-fs (local folder), sql/sqlite (file), sql/postgres and chunked-fsspec on a moto S3
server. The servers are started with tools/postgres.sh and tools/moto.sh and stopped at the end.
Each step log is a realistic record (one attempt with parameters, metrics and a catalog item).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from stepline.runlog.base import RunLogStore
from stepline.runlog.chunked_fs import ChunkedFileSystemRunLogStore
from stepline.runlog.models import Attempt, DataCatalogItem, Parameter, RunLog, Status, StepLog

ROOT = Path(__file__).resolve().parent.parent
STORES = ("chunked-fs", "sql/sqlite", "sql/postgres", "chunked-fsspec/moto-s3")


def service(name: str, started: list[str]) -> dict[str, str]:
    done = subprocess.run(["bash", str(ROOT / "tools" / f"{name}.sh"), "start"], capture_output=True, text=True,
                          check=True, timeout=900)
    started.append(name)
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


MAP_PIPELINE = """dag:
  start_at: fan
  steps:
    fan:
      type: map
      iterate_on: items
      iterate_as: x
      branch:
        start_at: square
        steps:
          square: {type: task, command: bench_map_steps.square, returns: [y]}
"""


def make_store(kind: str, folder: Path, started: list[str]) -> RunLogStore:
    if kind == "chunked-fs":
        return ChunkedFileSystemRunLogStore.from_config({"log_folder": str(folder / "runs")})
    if kind == "sql/sqlite":
        from stepline_sql.store import SqlRunLogStore

        return SqlRunLogStore.from_config({"url": f"sqlite:///{folder}/runs.db"})
    if kind == "sql/postgres":
        import sqlalchemy
        from stepline_sql.store import SqlRunLogStore

        url = service("postgres", started)["PG_URL"]
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with sqlalchemy.create_engine(url).begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        return SqlRunLogStore.from_config({"url": f"{url}?options=-csearch_path%3D{schema}"})
    if kind == "chunked-fsspec/moto-s3":
        import fsspec
        from stepline_fsspec.runlog import ChunkedFsspecRunLogStore

        os.environ.update(service("moto", started))
        bucket = f"bench-{uuid.uuid4().hex[:12]}"
        fsspec.filesystem("s3").mkdir(bucket)
        return ChunkedFsspecRunLogStore.from_config({"location": f"s3://{bucket}/runs"})
    raise SystemExit(f"unknown store {kind}; choose from {', '.join(STORES)}")


def step_log(i: int) -> StepLog:
    attempt = Attempt(status=Status.SUCCESS, end_time="2026-01-01T00:00:01+00:00",
                      input_parameters={"item": Parameter(value=i)},
                      output_parameters={"square": Parameter(value=i * i)},
                      user_defined_metrics={"loss": 1 / (i + 1)})
    return StepLog(name=f"step-{i}", internal_name=f"step-{i}", status=Status.SUCCESS, attempts=[attempt],
                   data_catalog=[DataCatalogItem(name=f"data/{i}.csv", data_hash="0" * 64)])


def bench(store: RunLogStore, steps: int, threads: int) -> tuple[float, float]:
    run_id = f"bench-{uuid.uuid4().hex[:8]}"
    store.create_run_log(RunLog(run_id=run_id))
    logs = [step_log(i) for i in range(steps)]
    start = time.perf_counter()
    if threads == 1:
        for log in logs:
            store.put_step_log(run_id, log)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda log: store.put_step_log(run_id, log), logs))
    writes = time.perf_counter() - start
    start = time.perf_counter()
    whole = store.get_run_log(run_id)
    read = time.perf_counter() - start
    assert len(whole.steps) == steps, f"{store.name}: {len(whole.steps)} of {steps} step logs read back"
    return writes, read


def bench_map(store: RunLogStore, folder: Path, items: int) -> tuple[float, float]:
    """Wall seconds of `stepline execute` of an M-item map and of `stepline runs show --json` on it."""
    import json

    import yaml

    stepline = str(Path(sys.executable).with_name("stepline"))
    work = folder / "map"
    work.mkdir(parents=True, exist_ok=True)
    (work / "bench_map_steps.py").write_text("def square(x):\n    return x * x\n")
    (work / "pipeline.yaml").write_text(MAP_PIPELINE)
    (work / "params.yaml").write_text(f"items: {list(range(items))}\n")
    config = {"run_log_store": {"type": store.name, "config": store.settings.model_dump(mode="json")}}
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    run_id = f"map-{uuid.uuid4().hex[:8]}"
    timings = []
    for args in (["execute", "pipeline.yaml", "-c", "config.yaml", "-p", "params.yaml", "--run-id", run_id],
                 ["runs", "show", run_id, "--json", "-c", "config.yaml"]):
        start = time.perf_counter()
        done = subprocess.run([stepline, *args], cwd=work, capture_output=True, text=True, check=False,
                              timeout=3600)
        timings.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"stepline {' '.join(args)} failed on {store.name}:\n{done.stderr[-2000:]}")
    branches = json.loads(done.stdout)["steps"]["fan"]["branches"]
    assert len(branches) == items, f"{store.name}: {len(branches)} of {items} map branches in the run log"
    return timings[0], timings[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--map-items", type=int, default=1000, help="items of the map (0: skip)")
    parser.add_argument("--threads", type=int, default=1, help="writer threads (1: sequential)")
    parser.add_argument("--only", default=",".join(STORES), help="comma-separated stores")
    args = parser.parse_args()
    started: list[str] = []
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for kind in args.only.split(","):
                store = make_store(kind, Path(tmp) / kind.replace("/", "-"), started)
                writes, read = bench(store, args.steps, args.threads) if args.steps else (0.0, 0.0)
                mapped = bench_map(store, Path(tmp) / kind.replace("/", "-"), args.map_items) \
                    if args.map_items else (0.0, 0.0)
                rows.append((kind, writes, read, *mapped))
                print(f"  {kind}: done", file=sys.stderr)
    finally:
        for name in reversed(started):
            subprocess.run(["bash", str(ROOT / "tools" / f"{name}.sh"), "stop"], capture_output=True, check=False,
                           timeout=120)
    print(f"\nA: {args.steps} put_step_log calls into one run ({args.threads} writer thread(s)), "
          f"then one get_run_log of that run")
    print(f"B: `stepline execute` of a map over {args.map_items} items (one python step each), "
          f"then `stepline runs show --json` of that run\n")
    print(f"| {'store':<24} | {'A: writes':>10} | {'per write':>10} | {'A: get_run_log':>14} "
          f"| {'B: execute':>10} | {'B: runs show':>12} |")
    print(f"| {'-' * 24} | {'-' * 10}:| {'-' * 10}:| {'-' * 14}:| {'-' * 10}:| {'-' * 12}:|")
    for kind, writes, read, execute, show in rows:
        per_write = writes / args.steps * 1000 if args.steps else 0.0
        print(f"| {kind:<24} | {writes:>8.2f} s | {per_write:>7.2f} ms | {read:>12.2f} s "
              f"| {execute:>8.2f} s | {show:>10.2f} s |")

if __name__ == "__main__":
    main()
