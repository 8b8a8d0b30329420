"""Crash safety: SIGKILL the executor at many points of a pipeline with a map and a parallel; the run
log must always be readable, no orphaned worker may write after the kill, and ``retry`` must complete
the run with every leaf step succeeding in exactly one of the two runs."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

STEPLINE = str(Path(sys.executable).parent / "stepline")

KILL_POINTS = 50

PIPELINE = """
dag:
  start_at: first
  steps:
    first:
      type: task
      command_type: shell
      command: sleep 0.02; echo "seed=5" >> "$STEPLINE_RETURNS"
      returns: [seed]
      next: fan
    fan:
      type: map
      iterate_on: xs
      iterate_as: x
      branch:
        start_at: square
        steps:
          square:
            type: task
            command_type: shell
            command: sleep 0.02; echo "sq=$(( x * x + seed ))" >> "$STEPLINE_RETURNS"
            returns: [sq]
            next: note
          note: {type: stub}
      next: fork
    fork:
      type: parallel
      branches:
        left:
          start_at: l1
          steps:
            l1: {type: task, command_type: shell, command: 'sleep 0.02; echo "l=1" >> "$STEPLINE_RETURNS"', returns: [l], next: l2}
            l2: {type: task, command_type: shell, command: 'sleep 0.02; test "$l" = 1'}
        right:
          start_at: r1
          steps:
            r1: {type: task, command_type: shell, command: 'sleep 0.02; echo "r=2" >> "$STEPLINE_RETURNS"', returns: [r]}
      next: last
    last:
      type: task
      command_type: shell
      command: sleep 0.02; echo "total=$(( seed + l + r ))" >> "$STEPLINE_RETURNS"
      returns: [total]
"""


def _leaves(run_log) -> dict:
    from stepline.runlog.flatten import flat_steps

    return {n: s for n, s in flat_steps(run_log).items() if s.step_type in ("task", "stub")}


def _seconds(start: str, end: str) -> float:
    import datetime as dt

    return (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()


def _values(run_log) -> dict:
    return {k: p.value for k, p in run_log.parameters.items()}


def _wait_for_no_processes_of(run_id: str, point: int) -> None:
    """No worker of the killed executor lives on (they get SIGTERM when their parent dies)."""
    deadline = time.monotonic() + 10
    while _processes_of(run_id) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _processes_of(run_id) == [], f"kill point {point}: workers outlived the killed executor"


def _processes_of(run_id: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if run_id.encode() in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def test_sigkill_at_many_points_then_retry_completes_each_step_exactly_once(tmp_path, monkeypatch, cli):
    kill_and_retry(tmp_path, monkeypatch, cli, "local", [1, 2, 3, 4], KILL_POINTS)


def test_sigkill_of_the_emulator_stops_its_step_processes(tmp_path, cli):
    # each leaf is a `stepline execute-single-node` child; it dies with the killed executor instead of
    # finishing its step and writing to a run that a retry may be continuing
    (tmp_path / "pipeline.yaml").write_text(
        "dag: {start_at: slow, steps: {slow: {type: task, command_type: shell, command: 'touch started; sleep 5'}}}\n")
    (tmp_path / "config.yaml").write_text("executor: {type: emulator}\n")
    proc = subprocess.Popen([STEPLINE, "execute", "pipeline.yaml", "-c", "config.yaml", "--run-id", "emu-kill"],
                            cwd=tmp_path, env=cli.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (tmp_path / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    children = [p for p in _processes_of("emu-kill") if p != proc.pid]
    assert children, "no execute-single-node process was running"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while _processes_of("emu-kill") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _processes_of("emu-kill") == [], "execute-single-node outlived the killed emulator"
    log = cli.run_log("emu-kill", tmp_path)
    slow = log["steps"]["slow"]  # stopped with its executor (SIGTERM), never reported as done
    assert (slow["status"], slow["message"]) == ("FAIL", "interrupted")


def kill_and_retry(tmp_path, monkeypatch, cli, executor: str, xs: list[int], points: int) -> None:
    from stepline.config.loader import load_services
    from stepline.executors.skip_from_original import SKIPPED_PREFIX
    from stepline.run.rerun import rerun

    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    (tmp_path / "params.yaml").write_text(f"xs: {xs}\n")
    (tmp_path / "config.yaml").write_text(f"executor: {{type: {executor}, config: {{max_workers: 2}}}}\n")
    monkeypatch.chdir(tmp_path)
    env = cli.env()
    base = [STEPLINE, "execute", "pipeline.yaml", "-c", "config.yaml", "-p", "params.yaml", "--run-id"]
    store = load_services("config.yaml").run_log_store

    # one uninterrupted run: the reference, and how long the pipeline takes once its run log exists
    proc = subprocess.Popen([*base, "reference"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runs = tmp_path / ".stepline" / "runs"
    while proc.poll() is None and not (runs / "reference").exists():
        time.sleep(0.005)
    assert proc.wait(timeout=60) == 0
    reference = store.get_run_log("reference")
    span = _seconds(reference.start_time, reference.end_time)
    expected = set(_leaves(reference))
    assert len(expected) == 5 + 2 * len(xs)  # first, (square, note) per item, l1, l2, r1, last

    def launch(point: int) -> subprocess.Popen:
        return subprocess.Popen([*base, f"kill{point}"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    outcomes = {"not started": 0, "partial": 0, "finished": 0}
    upcoming = launch(0)  # each victim starts (imports) while the previous one is checked and retried
    for point in range(points):
        run_id = f"kill{point}"
        proc = upcoming
        deadline = time.monotonic() + 30
        while proc.poll() is None and not (runs / run_id).exists() and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(span * point / points)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        if point + 1 < points:
            upcoming = launch(point + 1)

        if not store.run_exists(run_id):
            outcomes["not started"] += 1
            _wait_for_no_processes_of(run_id, point)
            continue
        # the run log is readable right after the kill: in-process, and through the CLI as a user reads
        # it (every 10th point)
        original = store.get_run_log(run_id)
        if point % 10 == 0:
            shown = subprocess.run([STEPLINE, "runs", "show", run_id, "--json", "-c", "config.yaml"], env=env,
                                   capture_output=True, text=True, timeout=60, check=False)
            assert shown.returncode == 0, f"kill point {point}: {shown.stderr}"
            assert json.loads(shown.stdout)["run_id"] == run_id
        done = {n for n, s in _leaves(original).items() if s.status.value == "SUCCESS"}
        outcomes["finished" if original.status.value == "SUCCESS" else "partial"] += 1
        if original.status.value == "SUCCESS":  # this run outran the reference (the load changed): aim by it
            span = min(span, _seconds(original.start_time, original.end_time))

        # re-run at once, as a user would: a worker of the killed run that lived on would now record
        # steps as succeeded in the original that the re-run runs again
        again = rerun(run_id, "config.yaml", run_id=f"{run_id}-retry", quiet=True)
        assert again.status.value == "SUCCESS", f"kill point {point}: {again.message}"
        _wait_for_no_processes_of(run_id, point)
        after = {n for n, s in _leaves(store.get_run_log(run_id)).items() if s.status.value == "SUCCESS"}
        assert after == done, f"kill point {point}: {sorted(after - done)} succeeded in the killed run after the kill"
        leaves = _leaves(again)
        assert set(leaves) == expected
        skipped = {n for n, s in leaves.items() if s.message == SKIPPED_PREFIX + run_id}
        assert skipped == done, f"kill point {point}: skipped {sorted(skipped ^ done)} wrongly"
        assert all(s.status.value == "SUCCESS" for s in leaves.values())
        assert _values(again) == _values(reference), f"kill point {point}: parameters differ"

    print(f"kill points: {outcomes}, pipeline span {span:.2f} s")
    assert outcomes["partial"] >= points // 2, outcomes  # most kills landed inside the pipeline


SEALED_MAP = """
dag:
  start_at: fan
  steps:
    fan:
      type: map
      iterate_on: xs
      iterate_as: x
      branch:
        start_at: work
        steps:
          work: {type: task, command_type: shell, command: 'touch "done-$x"', next: hold}
          hold: {type: task, command_type: shell, command: 'test -e go || sleep 60'}
"""


def test_sigkill_inside_branches_that_record_their_log_only_at_the_end(tmp_path, monkeypatch, cli):
    # no step of these branches returns anything, so each writes its branch log once, when it ends;
    # killed before that, the steps they recorded still show (under PROCESSING branches) and a retry
    # skips exactly those that succeeded
    from stepline.config.loader import load_services
    from stepline.executors.skip_from_original import SKIPPED_PREFIX
    from stepline.run.rerun import rerun

    (tmp_path / "pipeline.yaml").write_text(SEALED_MAP)
    (tmp_path / "params.yaml").write_text("xs: [1, 2]\n")
    (tmp_path / "config.yaml").write_text("executor: {type: local, config: {max_workers: 2}}\n")
    monkeypatch.chdir(tmp_path)
    store = load_services("config.yaml").run_log_store
    proc = subprocess.Popen([STEPLINE, "execute", "pipeline.yaml", "-c", "config.yaml", "-p", "params.yaml",
                             "--run-id", "sealed"], env=cli.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    work = {"fan.0.work", "fan.1.work"}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if store.run_exists("sealed") and work <= {n for n, s in _leaves(store.get_run_log("sealed")).items()
                                                   if s.status.value == "SUCCESS"}:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    _wait_for_no_processes_of("sealed", 0)

    killed = store.get_run_log("sealed")
    branches = killed.steps["fan"].branches
    assert {n: b.status.value for n, b in branches.items()} == {"fan.0": "PROCESSING", "fan.1": "PROCESSING"}
    assert {n for n, s in _leaves(killed).items() if s.status.value == "SUCCESS"} == work

    (tmp_path / "go").touch()
    again = rerun("sealed", "config.yaml", run_id="sealed-retry", quiet=True)
    assert again.status.value == "SUCCESS", again.message
    leaves = _leaves(again)
    assert {n for n, s in leaves.items() if s.message == SKIPPED_PREFIX + "sealed"} == work
    assert set(leaves) == work | {"fan.0.hold", "fan.1.hold"}
    assert {b.status.value for b in again.steps["fan"].branches.values()} == {"SUCCESS"}
