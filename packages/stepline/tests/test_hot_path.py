"""What the hot path promises besides speed: a quick step is recorded once, a step that runs on is
visible as running (with the attempt it is in) while it runs, output is complete and echoed live,
and the watcher thread behind it is fork-safe."""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from stepline.executors import attempt_watch
from stepline.executors.attempt_watch import LATE_AFTER, Watcher
from stepline.run.execute import execute
from stepline.runlog.chunked_fs import ChunkedFileSystemRunLogStore
from stepline.runlog.models import Status
from stepline.tasks.output import OutputSink, capture_fds
from stepline.testing.cli import clean_env

STEPLINE = str(Path(sys.executable).parent / "stepline")
USER_MODULES = "hot_"


@pytest.fixture
def writes(monkeypatch) -> list[str]:
    """The keys of the records the chunked-fs store writes in this process, in order; those written
    once (a sealed branch's log, appended to the process's journal) marked so."""
    keys: list[str] = []
    original, once = ChunkedFileSystemRunLogStore._write, ChunkedFileSystemRunLogStore._write_once
    monkeypatch.setattr(ChunkedFileSystemRunLogStore, "_write",
                        lambda self, run_id, key, text: (keys.append(key), original(self, run_id, key, text)))
    monkeypatch.setattr(ChunkedFileSystemRunLogStore, "_write_once",
                        lambda self, run_id, key, text: (keys.append(f"{key} (once)"), once(self, run_id, key, text)))
    return keys


def test_quick_steps_are_written_once_each(write, writes):
    write("hot_steps.py", "def noop():\n    return None\n")
    write("pipeline.yaml", """
        dag:
          start_at: a
          steps:
            a: {type: task, command: hot_steps.noop, next: b}
            b: {type: task, command_type: shell, command: 'true', next: c}
            c: {type: task, command: hot_steps.noop}
    """)
    log = execute("pipeline.yaml", None, None, quiet=True)
    assert log.status == Status.SUCCESS
    step_writes = [k for k in writes if k.startswith("step/")]
    assert sorted(step_writes) == ["step/a", "step/b", "step/c", "step/success"]  # no start records


def test_a_leaf_that_ends_its_branch_is_written_with_the_branch(write, writes):
    write("hot_steps.py", "def noop():\n    return None\n")
    write("config.yaml", "executor: {type: local, config: {max_workers: 1}}\n")
    write("pipeline.yaml", """
        dag:
          start_at: fan
          steps:
            fan:
              type: map
              iterate_on: items
              iterate_as: x
              branch:
                start_at: first
                steps:
                  first: {type: task, command: hot_steps.noop, next: last}
                  last: {type: task, command: hot_steps.noop}
    """)
    write("params.yaml", "items: [1, 2]\n")
    log = execute("pipeline.yaml", "config.yaml", "params.yaml", quiet=True)
    assert log.status == Status.SUCCESS
    own = sorted(k for k in writes if k.startswith("step/"))
    assert own == ["step/fan", "step/fan", "step/fan.0.first", "step/fan.1.first", "step/success"]
    assert sorted(k for k in writes if k.startswith("branch/")) == ["branch/fan.0 (once)", "branch/fan.1 (once)"]
    whole = ChunkedFileSystemRunLogStore().get_run_log(log.run_id)
    for item in ("fan.0", "fan.1"):
        branch = whole.steps["fan"].branches[item]
        assert branch.status == Status.SUCCESS
        assert list(branch.steps) == [f"{item}.first", f"{item}.last", f"{item}.success"]
        assert all(s.status == Status.SUCCESS for s in branch.steps.values())


def test_a_leaf_that_ran_on_replaces_its_start_record_with_its_own_end(write):
    write("pipeline.yaml", """
        dag:
          start_at: fan
          steps:
            fan:
              type: map
              iterate_on: items
              iterate_as: x
              branch:
                start_at: slow
                steps:
                  slow: {type: task, command_type: shell, command: 'sleep 0.3'}
    """)
    write("params.yaml", "items: [1]\n")
    log = execute("pipeline.yaml", None, "params.yaml", quiet=True)
    store = ChunkedFileSystemRunLogStore()
    assert store.get_step_log(log.run_id, "fan.0.slow").status == Status.SUCCESS  # not left at its start
    slow = store.get_run_log(log.run_id).steps["fan"].branches["fan.0"].steps["fan.0.slow"]
    assert slow.status == Status.SUCCESS and slow.attempts[0].status == Status.SUCCESS


def _wait_for_record(run_id: str, step: str) -> None:
    """The step's start record, written by the watcher about LATE_AFTER after the attempt began."""
    store, deadline = ChunkedFileSystemRunLogStore(), time.monotonic() + 10
    while store.get_step_log(run_id, step) is None and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_step_that_runs_on_is_in_the_run_log_as_running_with_its_attempt(write):
    write("pipeline.yaml", """
        dag:
          start_at: slow
          steps:
            slow: {type: task, command_type: shell, command: 'touch started; sleep 1.5; touch finished'}
    """)
    proc = subprocess.Popen([STEPLINE, "execute", "pipeline.yaml", "--run-id", "running"], env=clean_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not Path("started").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        _wait_for_record("running", "slow")
        shown = subprocess.run([STEPLINE, "runs", "show", "running", "--json"], env=clean_env(),
                               capture_output=True, text=True, timeout=60, check=True)
        assert not Path("finished").exists(), "the machine was too slow to look while the step ran"
        slow = json.loads(shown.stdout)["steps"]["slow"]
        assert slow["status"] == "PROCESSING"
        assert [a["status"] for a in slow["attempts"]] == ["PROCESSING"]
        assert slow["attempts"][0]["start_time"]
    finally:
        assert proc.wait(timeout=60) == 0
    done = json.loads(subprocess.run([STEPLINE, "runs", "show", "running", "--json"], env=clean_env(),
                                     capture_output=True, text=True, timeout=60, check=True).stdout)
    assert done["steps"]["slow"]["status"] == "SUCCESS"


def test_sigkill_of_a_step_that_ran_on_leaves_it_running_in_the_log(write):
    write("pipeline.yaml", """
        dag:
          start_at: first
          steps:
            first: {type: task, command_type: shell, command: 'true', next: slow}
            slow: {type: task, command_type: shell, command: 'touch started; sleep 30'}
    """)
    proc = subprocess.Popen([STEPLINE, "execute", "pipeline.yaml", "--run-id", "killed"], env=clean_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while not Path("started").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    _wait_for_record("killed", "slow")
    os.killpg(proc.pid, 9)
    proc.wait(timeout=10)
    log = json.loads(subprocess.run([STEPLINE, "runs", "show", "killed", "--json"], env=clean_env(),
                                    capture_output=True, text=True, timeout=60, check=True).stdout)
    assert log["steps"]["first"]["status"] == "SUCCESS"
    assert log["steps"]["slow"]["status"] == "PROCESSING"  # the attempt it was in, not lost


def test_output_of_a_quick_step_is_complete_in_order_and_bigger_than_a_pipe(capfd):
    sink = OutputSink([], echo=False)
    with capture_fds(sink):
        print("first")
        os.write(1, b"second\n")
        subprocess.run(["echo", "third"], check=True)
        print("x" * 300_000)  # more than a pipe holds: the watcher starts reading it
        print("last")
    lines = sink.text().splitlines()
    assert lines[:3] == ["first", "second", "third"]
    assert lines[3] == "x" * 300_000 and lines[4] == "last"


def test_a_task_that_closes_sys_stdout_does_not_break_the_next_capture(capfd):
    # one stream on fd 1 serves every attempt of the process; a task that closed it gets a new one
    first, second = OutputSink(echo=True), OutputSink(echo=True)
    with capture_fds(first):
        print("before close")
        sys.stdout.close()
    with capture_fds(second):
        print("after close")
        os.write(2, b"raw stderr\n")
    assert first.text() == "before close\n"
    assert second.text() == "after close\nraw stderr\n"
    echoed = capfd.readouterr().out
    assert "before close" in echoed and "after close" in echoed


def test_echo_goes_to_the_real_stdout_with_undecodable_output_replaced(capfd):
    sink = OutputSink(echo=True)
    with capture_fds(sink):
        os.write(1, b"ok \xff\xfe end\n")
        print("caf\u00e9")
    assert sink.text() == "ok \ufffd\ufffd end\ncaf\u00e9\n"
    assert capfd.readouterr().out == "ok \ufffd\ufffd end\ncaf\u00e9\n"


def test_timestamps_are_iso_8601_utc_with_microseconds():
    import datetime as dt

    from stepline.runlog.models import utc_now

    before = dt.datetime.now(dt.timezone.utc)
    stamp = utc_now()
    after = dt.datetime.now(dt.timezone.utc)
    parsed = dt.datetime.fromisoformat(stamp)
    assert stamp == parsed.isoformat(timespec="microseconds")  # the form isoformat writes
    assert parsed.tzinfo == dt.timezone.utc and before <= parsed <= after


def test_output_of_a_step_that_runs_on_is_echoed_while_it_runs(write):
    write("hot_live.py", """
        import time
        from pathlib import Path

        def talk():
            print("hello from the step", flush=True)
            while not Path("seen").exists():
                time.sleep(0.01)
            print("bye")
    """)
    write("pipeline.yaml", "dag: {start_at: t, steps: {t: {type: task, command: hot_live.talk}}}\n")
    proc = subprocess.Popen([STEPLINE, "execute", "pipeline.yaml"], env=clean_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    timer = threading.Timer(30, proc.kill)  # never hang the suite if the echo never comes
    timer.start()
    try:
        for line in proc.stdout:
            if "hello from the step" in line:
                Path("seen").touch()  # the step waits for this: it is still running
                break
        rest = proc.stdout.read()
    finally:
        timer.cancel()
    assert proc.wait(timeout=30) == 0
    assert "bye" in rest


def test_a_quick_attempts_work_is_cancelled_and_a_late_ones_is_done_once():
    watch, done = Watcher(), []
    quick = watch.watch(lambda: done.append("quick"))
    assert watch.done(quick) is False
    late = watch.watch(lambda: done.append("late"))
    deadline = time.monotonic() + 5
    while not done and time.monotonic() < deadline:
        time.sleep(0.01)
    assert watch.done(late) is True
    time.sleep(LATE_AFTER * 2)
    assert done == ["late"]
    watch.stop()


def test_the_watcher_stops_around_a_fork_and_the_child_gets_its_own():
    ran = []
    late = attempt_watch.watcher().watch(lambda: ran.append(os.getpid()))
    pid = os.fork()
    if pid == 0:  # the child: a fresh watcher, none of the parent's attempts
        code = 0 if attempt_watch.watcher() is not None and not attempt_watch.watcher()._pending else 3
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    deadline = time.monotonic() + 5
    while not ran and time.monotonic() < deadline:  # resumed after the fork: the work still happens
        time.sleep(0.01)
    assert attempt_watch.watcher().done(late) is True
    assert ran == [os.getpid()]


@pytest.mark.parametrize("returns", [False, True])
def test_shell_returns_file_is_writable_with_or_without_returns(write, returns):
    listed = ", returns: [x]" if returns else ""
    write("pipeline.yaml", f"""
        dag:
          start_at: s
          steps:
            s: {{type: task, command_type: shell, command: 'echo x=7 >> "$STEPLINE_RETURNS"'{listed}}}
    """)
    log = execute("pipeline.yaml", None, None, quiet=True)
    assert log.status == Status.SUCCESS
    assert ("x" in log.parameters) is returns
