"""Benchmark listing runs (what `stepline ui`'s runs list and `runs list` do) over N stored runs.

    uv run python bench/bench_runs_list.py [--runs 10000] [--steps 5] [--only chunked-fs,...]

For each store (chunked-fs, file-system, sql on a SQLite file) it writes N finished runs, each with
a few step logs (so a store that reads whole runs pays for them), then times:
  * query_runs(limit=50): one page of the newest runs with the total (the runs list's first page);
  * query_runs(status=FAIL, tag=..., limit=50): a filtered page;
  * the runs list page itself, GET / on a real `stepline ui` server (uvicorn on 127.0.0.1).
Each number is the best of 3. The target of the issue: 10,000 runs listed in < 1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import socket
import sys
import tempfile
import threading
import time
import urllib.request
from functools import partial
from pathlib import Path

from stepline.runlog.listing import RunQuery
from stepline.runlog.models import Attempt, Parameter, RunLog, Status, StepLog

STORES = ("chunked-fs", "file-system", "sql/sqlite")


def make_store(name: str, folder: Path):
    if name == "chunked-fs":
        from stepline.runlog.chunked_fs import ChunkedFileSystemRunLogStore

        return ChunkedFileSystemRunLogStore.from_config({"log_folder": str(folder / "runs")}), {
            "type": "chunked-fs", "config": {"log_folder": str(folder / "runs")}}
    if name == "file-system":
        from stepline.runlog.file_system import FileSystemRunLogStore

        return FileSystemRunLogStore.from_config({"log_folder": str(folder / "runs")}), {
            "type": "file-system", "config": {"log_folder": str(folder / "runs")}}
    from stepline_sql.store import SqlRunLogStore

    url = f"sqlite:///{folder / 'runs.db'}"
    return SqlRunLogStore.from_config({"url": url}), {"type": "sql", "config": {"url": url}}


def fill(store, runs: int, steps: int) -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for i in range(runs):
        begin = (start + dt.timedelta(minutes=i)).isoformat(timespec="microseconds")  # as stepline writes
        end = (start + dt.timedelta(minutes=i, seconds=7)).isoformat(timespec="microseconds")
        status = Status.FAIL if i % 10 == 0 else Status.SUCCESS
        run = RunLog(run_id=f"run-{i:06d}", status=status, tag="nightly" if i % 3 == 0 else "",
                     start_time=begin, end_time=end, pipeline_file="pipeline.yaml",
                     initial_parameters={"x": Parameter(value=i)}, run_config={"executor": {"type": "local"}})
        store.create_run_log(run)
        for s in range(steps):
            store.put_step_log(run.run_id, StepLog(
                name=f"s{s}", internal_name=f"s{s}", status=Status.SUCCESS,
                attempts=[Attempt(start_time=begin, end_time=end, status=Status.SUCCESS,
                                  input_parameters={"x": Parameter(value=list(range(20)))},
                                  output_parameters={"y": Parameter(value="z" * 200)})]))


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(config_file: Path):
    import uvicorn
    from stepline.ui.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(str(config_file)), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{port}"


def get_page(url: str) -> None:
    with urllib.request.urlopen(url, timeout=60) as answer:
        assert answer.status == 200 and b"run-" in answer.read()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--only", default=",".join(STORES))
    args = parser.parse_args()
    import yaml

    print(f"{args.runs} runs, {args.steps} step logs each")
    print(f"{'store':<12} {'fill s':>8} {'page s':>8} {'filtered s':>10} {'GET / s':>8}")
    for name in args.only.split(","):
        with tempfile.TemporaryDirectory(prefix="stepline-bench-list-") as tmp:
            folder = Path(tmp)
            store, config = make_store(name, folder)
            t = time.perf_counter()
            fill(store, args.runs, args.steps)
            filled = time.perf_counter() - t
            page = store.query_runs(RunQuery(limit=50))
            assert page.total == args.runs and len(page.runs) == 50, page.total
            first = best(partial(store.query_runs, RunQuery(limit=50)))
            query = RunQuery(statuses=frozenset({Status.FAIL}), tag="nightly", limit=50)
            assert store.query_runs(query).total == len([i for i in range(args.runs) if i % 30 == 0])
            filtered = best(partial(store.query_runs, query))
            config_file = folder / "config.yaml"
            config_file.write_text(yaml.safe_dump({"run_log_store": config}))
            server, thread, url = serve(config_file)
            try:
                page_s = best(partial(get_page, url + "/"))
            finally:
                server.should_exit = True
                thread.join(10)
            print(f"{name:<12} {filled:>8.1f} {first:>8.3f} {filtered:>10.3f} {page_s:>8.3f}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
