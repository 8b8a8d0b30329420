"""The fork pool that runs map and parallel branches (stepline.executors.fork_pool): real forked
processes, real signals; and what a user of the CLI sees when a worker dies (stop signals, Ctrl-C
included: test_composites.py)."""

import gc
import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from stepline.executors import fork_pool
from stepline.executors.fork_pool import run_forked

STEPLINE = str(Path(sys.executable).with_name("stepline"))


def _no_lost(item, reason):
    raise AssertionError(f"item {item} lost: {reason}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def _wait_until(check, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


def test_outcomes_come_back_in_item_order_from_other_processes():
    def run_one(item):
        time.sleep((12 - item) * 0.004)  # the later items end first
        return item * item, os.getpid()

    outcomes = run_forked(12, 3, run_one, _no_lost)
    assert [value for value, _ in outcomes] == [i * i for i in range(12)]
    pids = {pid for _, pid in outcomes}
    assert os.getpid() not in pids and 1 < len(pids) <= 3
    fork_pool._reap(wait=True)
    assert fork_pool._ENDING == []


def test_what_the_parent_froze_stays_frozen():
    # the CLI freezes what start-up built (stepline.cli.collector); a map must not thaw it
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert run_forked(4, 2, lambda item: gc.get_freeze_count() >= frozen, _no_lost) == [True] * 4
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_a_worker_killed_while_running_an_item_loses_only_that_item(tmp_path):
    def run_one(item):
        with open(tmp_path / f"ran-{item}", "a") as ran:
            ran.write("x")
        if item == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return item

    lost = []
    outcomes = run_forked(10, 2, run_one, lambda item, reason: lost.append((item, reason)) or "lost")
    assert outcomes == [0, 1, 2, "lost", 4, 5, 6, 7, 8, 9]
    [(item, reason)] = lost
    assert item == 3 and "was killed by SIGKILL while running it" in reason
    # the rest of the dead worker's chunk went to another worker: every item ran exactly once
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {f"ran-{i}": "x" for i in range(10)}


def test_while_much_is_queued_a_worker_has_its_next_chunk_before_it_ends_the_one_it_runs(monkeypatch):
    # the parent sends a second chunk at once: the worker never waits for the parent between chunks
    tasks = {}
    work = fork_pool._work

    def remember_the_task_pipe(parent, lifeline, task_fd, *rest):
        tasks["fd"] = task_fd
        work(parent, lifeline, task_fd, *rest)

    monkeypatch.setattr(fork_pool, "_work", remember_the_task_pipe)
    first_ends = {size - 1 for start, size in fork_pool._chunks(400, 2)[:1]}

    def run_one(item):
        if item in first_ends:  # the last item of the first chunk: the next is waiting already
            return bool(select.select([tasks["fd"]], [], [], 10)[0])
        return None

    assert run_forked(400, 2, run_one, _no_lost)[min(first_ends)] is True


def test_near_the_end_no_chunk_waits_in_a_busy_workers_pipe():
    # three long items, three workers: each runs one, at the same time (none holds two)
    def run_one(item):
        time.sleep(0.3)
        return os.getpid()

    assert len(set(run_forked(3, 3, run_one, _no_lost))) == 3


def test_a_worker_killed_holding_two_chunks_hands_both_back(tmp_path):
    def run_one(item):
        with open(tmp_path / f"ran-{item}", "a") as ran:
            ran.write("x")
        if item == 2:  # in the first chunk (0-49) of the first worker, which holds a second one
            os.kill(os.getpid(), signal.SIGKILL)
        return item

    lost = []
    outcomes = run_forked(400, 2, run_one, lambda item, reason: lost.append(item) or "lost")
    assert lost == [2] and outcomes == [*range(2), "lost", *range(3, 400)]
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {f"ran-{i}": "x" for i in range(400)}


def test_runs_of_consecutive_items():
    assert fork_pool._runs([3, 4, 5, 9, 10, 12]) == [(3, 3), (9, 2), (12, 1)]
    assert fork_pool._runs([]) == []


def test_the_last_worker_killed_on_its_last_item_is_replaced_while_items_are_left():
    def run_one(item):
        if item == 0:
            os._exit(3)  # the only worker, on a chunk of one item
        return item

    lost = []
    assert run_forked(3, 1, run_one, lambda item, reason: lost.append(reason) or None) == [None, 1, 2]
    assert lost == [lost[0]] and "exited with code 3 while running it" in lost[0]


def test_workers_that_die_before_starting_anything_give_the_items_up(monkeypatch):
    monkeypatch.setattr(fork_pool, "_die_with_parent", lambda parent, lifeline: os._exit(5))
    lost = {}
    outcomes = run_forked(4, 2, lambda item: item, lambda item, reason: lost.setdefault(item, reason))
    assert sorted(lost) == [0, 1, 2, 3] and outcomes == [lost[i] for i in range(4)]
    assert all("no worker could start it" in r and "exited with code 5" in r for r in lost.values())


def test_an_error_in_an_item_is_raised_here_once_the_workers_are_stopped(tmp_path, monkeypatch):
    def run_one(item):
        if item == 1:
            raise ValueError("item one is bad")
        time.sleep(30)  # the other workers are stopped, not waited for

    forked, fork = [], os.fork

    def recorded_fork():
        pid = fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", recorded_fork)
    started = time.monotonic()
    with pytest.raises(ValueError, match="item one is bad"):
        run_forked(3, 3, run_one, _no_lost)
    assert time.monotonic() - started < 20
    assert len(forked) == 3
    for pid in forked:  # every worker was waited for (not another test's children: only the pool's)
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_workers_get_sigterm_when_their_parent_is_killed(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent(f"""
        import os, time
        from stepline.executors.fork_pool import run_forked

        def run_one(item):
            with open({str(tmp_path / 'pids')!r}, "a") as pids:
                pids.write(f"{{os.getpid()}}\\n")
            time.sleep(60)

        run_forked(2, 2, run_one, lambda item, reason: None)
    """))
    parent = subprocess.Popen([sys.executable, str(script)])
    pids_file = tmp_path / "pids"
    try:
        assert _wait_until(lambda: pids_file.exists() and len(pids_file.read_text().split()) == 2)
    finally:
        parent.kill()
        parent.wait()
    workers = [int(p) for p in pids_file.read_text().split()]
    assert _wait_until(lambda: not any(_alive(p) for p in workers), 10), "workers outlived their killed parent"


MAP = """
    dag:
      start_at: fan
      steps:
        fan:
          type: map
          iterate_on: xs
          iterate_as: x
          branch: {start_at: s, steps: {s: {type: task, command: items.work}}}
"""

ITEMS = """
    import os, signal, time

    def work(x: int):
        if x == 2:
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would
        time.sleep(0.02)
"""


def test_a_map_item_that_kills_its_worker_fails_its_branch_and_the_others_run(write, workdir):
    write("pipeline.yaml", MAP)
    write("items.py", ITEMS)
    write("params.yaml", "xs: [0, 1, 2, 3, 4, 5, 6, 7]\n")
    write("config.yaml", "executor: {type: local, config: {max_workers: 2}}\n")
    done = subprocess.run([STEPLINE, "execute", "pipeline.yaml", "-p", "params.yaml", "-c", "config.yaml",
                           "--run-id", "killed-item"], cwd=workdir, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1, done.stderr
    assert "error: branch 'fan.2' failed: its worker process" in done.stderr
    assert "was killed by SIGKILL while running it" in done.stderr and "Traceback" not in done.stderr
    shown = subprocess.run([STEPLINE, "runs", "show", "killed-item", "--json"], cwd=workdir, capture_output=True,
                           text=True, check=True)
    fan = json.loads(shown.stdout)["steps"]["fan"]
    assert (fan["status"], fan["message"]) == ("FAIL", "1 of 8 branches failed: 2")
    branches = fan["branches"]
    assert branches["fan.2"]["status"] == "FAIL" and "SIGKILL" in branches["fan.2"]["message"]
    assert {name for name, b in branches.items() if b["status"] == "SUCCESS"} == {
        f"fan.{i}" for i in range(8) if i != 2}
