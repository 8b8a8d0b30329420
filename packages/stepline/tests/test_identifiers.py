"""Run ids, step names and return names never become a path outside the store or the catalog."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from stepline.errors import StepLineError
from stepline.paths import NAME_MAX, UnsafeIdentifierError, check_run_id, safe_file_name
from stepline.runlog.models import Status
from stepline.run.execute import execute

PIPELINE = "dag:\n  start_at: s\n  steps:\n    s: {type: stub}\n"


def cli(cwd, *args):
    return subprocess.run([sys.executable, "-m", "stepline", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "STEPLINE_DEBUG": ""})


@pytest.mark.parametrize("run_id", ["../../../elsewhere/run1", "/tmp/abs-run", "a/b", "x" * 300, "..", "",
                                    "-rf", "a\nb", "run id"])
def test_an_unsafe_run_id_is_refused(run_id):
    with pytest.raises(UnsafeIdentifierError, match="is not a valid run id"):
        check_run_id(run_id)


def test_generated_and_engine_run_ids_are_accepted():
    from stepline.run.run_context import new_run_id

    for run_id in (new_run_id(), "my-pipeline-x7k2p", "exec.2024-01-01T10_00", "A" * 128):
        assert check_run_id(run_id) == run_id


@pytest.mark.parametrize("run_id", ["../../../elsewhere/run1", "a/b", "x" * 300])
def test_cli_refuses_a_run_id_that_is_a_path_and_writes_nothing(workdir, run_id):
    (workdir / "inner").mkdir()
    (workdir / "inner" / "p.yaml").write_text(PIPELINE)
    shown = cli(workdir / "inner", "execute", "p.yaml", "--run-id", run_id, "--no-progress")
    assert shown.returncode == 2, shown.stderr
    assert "is not a valid run id" in shown.stderr and len(shown.stderr.strip().splitlines()) == 1
    assert "Traceback" not in shown.stderr
    assert not (workdir / "elsewhere").exists()
    runs = workdir / "inner" / ".stepline" / "runs"
    assert not runs.exists() or not any(runs.iterdir())


def test_runs_show_refuses_a_path(workdir):
    shown = cli(workdir, "runs", "show", "../../etc/passwd")
    assert shown.returncode == 2 and "is not a valid run id" in shown.stderr


def test_a_return_named_like_a_path_stays_in_the_catalog(write, workdir):
    write("steps_esc.py", "def make():\n    return {'x': 1}\n")
    write("pipeline.yaml", """
        dag:
          start_at: a
          steps:
            a: {type: task, command: steps_esc.make, returns: [{name: ../../../../escaped, kind: object}]}
    """)
    log = execute("pipeline.yaml", quiet=True, run_id="esc-1")
    assert log.status == Status.SUCCESS
    stored = log.parameters["../../../../escaped"].value
    assert stored.startswith("esc-1/objects/a/") and ".." not in stored.split("/")
    assert (workdir / ".stepline" / "catalog" / stored).is_file()
    assert not list(workdir.parent.glob("escaped*")) and not list(workdir.glob("**/escaped.pickle"))


def test_a_long_step_name_runs_and_its_records_and_logs_are_stored(write, workdir):
    name = "s" * 240
    write("pipeline.yaml", f"""
        dag:
          start_at: {name}
          steps:
            {name}: {{type: task, command_type: shell, command: echo long}}
    """)
    log = execute("pipeline.yaml", quiet=True, run_id="long-1")
    assert log.status == Status.SUCCESS
    assert log.steps[name].status == Status.SUCCESS
    logs = [item.catalog_relative_path for item in log.steps[name].data_catalog]
    assert len(logs) == 1 and all(len(part) < 255 for part in logs[0].split("/"))
    assert (workdir / ".stepline" / "catalog" / logs[0]).read_text() == "long\n"


def test_a_long_branch_name_nests_under_its_step(write):
    branch = "b" * 230
    write("pipeline.yaml", f"""
        dag:
          start_at: fork
          steps:
            fork:
              type: parallel
              branches:
                {branch}: {{start_at: x, steps: {{x: {{type: stub}}}}}}
    """)
    log = execute("pipeline.yaml", quiet=True, run_id="long-2")
    assert log.status == Status.SUCCESS
    assert list(log.steps["fork"].branches) == [f"fork.{branch}"]
    assert f"fork.{branch}.x" in log.steps["fork"].branches[f"fork.{branch}"].steps


def test_safe_file_names_are_short_and_never_collide():
    long_a, long_b = "x" * 150 + "a", "x" * 150 + "b"
    names = {safe_file_name(n) for n in (long_a, long_b, "../up", "..%2Fup", "a/b", "a%2Fb", "plain name", ".hidden")}
    assert len(names) == 8
    assert all(len(n) <= NAME_MAX and "/" not in n and not n.startswith(".") for n in names)
    assert safe_file_name("plain name") == "plain name"


def test_a_symlink_out_of_the_data_folder_is_not_put(write, workdir, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "secret.txt"
    outside.write_text("not yours")
    (workdir / "data").mkdir()
    (workdir / "data" / "link.txt").symlink_to(outside)
    write("pipeline.yaml", """
        dag:
          start_at: a
          steps:
            a: {type: task, command_type: shell, command: 'true', catalog: {put: [data/link.txt]}}
    """)
    log = execute("pipeline.yaml", quiet=True, run_id="link-1")
    assert log.status == Status.FAIL
    assert "outside" in log.steps["a"].message
    assert not (workdir / ".stepline" / "catalog" / "link-1" / "data" / "link.txt").exists()


def test_a_symlink_out_of_the_catalog_is_not_got(write, workdir, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside2") / "secret.txt"
    outside.write_text("not yours")
    run_dir = workdir / ".stepline" / "catalog" / "get-1"
    run_dir.mkdir(parents=True)
    (run_dir / "in.txt").symlink_to(outside)
    write("pipeline.yaml", """
        dag:
          start_at: a
          steps:
            a: {type: task, command_type: shell, command: 'true', catalog: {get: [in.txt]}}
    """)
    from stepline.catalog.file_system import FileSystemCatalog

    with pytest.raises(StepLineError, match="matched nothing|outside"):
        FileSystemCatalog.from_config({}, source="test").get("get-1", ["in.txt"])
    assert not (workdir / "in.txt").exists()


@pytest.mark.parametrize(("key", "value"), [("retry_delay_seconds", ".inf"), ("retry_delay_seconds", "1e9"),
                                            ("timeout_seconds", ".nan"), ("max_attempts", "100000"),
                                            ("retry_backoff", "{factor: .inf}"),
                                            ("retry_backoff", "{max_seconds: -1}")])
def test_infinite_or_absurd_retry_settings_are_refused_before_the_run(workdir, key, value):
    attempts = "" if key == "max_attempts" else "max_attempts: 2, "
    (workdir / "p.yaml").write_text("dag:\n  start_at: a\n  steps:\n    a: {type: task, command_type: shell, "
                                    f"command: 'true', {attempts}{key}: {value}}}\n")
    shown = cli(workdir, "execute", "p.yaml", "--no-progress")
    assert shown.returncode == 2, shown.stderr
    assert f"p.yaml: step 'a': key '{key}" in shown.stderr and "Traceback" not in shown.stderr
    assert not (workdir / ".stepline").exists()


def test_an_unexpected_error_after_the_run_log_exists_ends_the_run_fail(write, monkeypatch):
    from stepline.executors import step_context
    from stepline.run.lifecycle import RunStopped

    write("pipeline.yaml", PIPELINE.replace("{type: stub}", "{type: task, command_type: shell, command: 'true'}"))

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(step_context, "execute_step", broken)
    with pytest.raises(RunStopped, match="No space left on device"):
        execute("pipeline.yaml", quiet=True, run_id="broken-1")
    from stepline.config.loader import load_services

    run = load_services(None).run_log_store.get_run("broken-1")
    assert run.status == Status.FAIL and "No space left on device" in run.message


@pytest.mark.parametrize("key", ["run", "params", "step/s12", "branch/fan.3", "step/fan.3.square", "step/a b",
                                 "step/x%y", "step/x%2Fy", "step/a/b", "step/~t", "step/é", "weird%2F", "%2F", "a%2Fb/c"])
def test_a_record_key_is_read_back_from_its_file_name(key):
    from stepline.runlog.files import key_from_filename, record_filename

    assert key_from_filename(record_filename(key)) == key
