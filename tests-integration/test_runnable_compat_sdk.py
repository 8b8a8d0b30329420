"""runnable compatibility, the Python SDK half: scripts written the way runnable's users write them
(``from stepline import ...``, a ``main()`` that builds the pipeline, calls ``.execute()`` and returns
it) run unchanged as ``python script.py``, locally and, through ``RUNNABLE_CONFIGURATION_FILE``, on
executors that run steps in other processes or render the pipeline. The fixtures are in
``runnable_compat/sdk/``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "runnable_compat" / "sdk"
BIN = str(Path(sys.executable).parent)


@pytest.fixture
def scripts(tmp_path) -> Path:
    folder = tmp_path / "project"
    shutil.copytree(FIXTURES, folder, ignore=shutil.ignore_patterns(".stepline", "__pycache__", "run.sh"))
    return folder


def python(script: str, cwd: Path, cli, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    """``python script.py`` as a user runs it: the venv's python and stepline first on PATH."""
    environment = cli.env(PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **env)
    return subprocess.run([sys.executable, script], check=False, cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=timeout)


def one_error_line(done: subprocess.CompletedProcess) -> str:
    """The script's last stderr line, which must be Stepline's one-line error (no traceback)."""
    assert "Traceback" not in done.stderr, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: "), done.stderr
    return last


# ---- as_pipeline(), and a failed run is an exception -----------------------------------------------
def test_a_task_as_pipeline_runs_as_a_script(scripts, cli):
    done = python("hello_as_pipeline.py", scripts, cli, RUNNABLE_RUN_ID="hello")
    assert done.returncode == 0, done.stderr
    assert "hello world" in done.stdout
    log = cli.run_log("hello", scripts)
    assert log["status"] == "SUCCESS" and list(log["steps"]) == ["hello", "success"]
    assert log["parameters"]["greeting"]["value"] == "hello world"


def test_a_failed_run_makes_the_script_exit_non_zero(scripts, cli):
    done = python("flaky.py", scripts, cli, STEPLINE_RUN_ID="flaky-1")
    assert done.returncode == 1
    assert one_error_line(done) == (
        "error: run 'flaky-1' ended in FAIL: step 'check' failed: ValueError: should_pass is not true "
        "(see `stepline runs show flaky-1`; re-run what failed with STEPLINE_RETRY_RUN_ID=flaky-1)")
    assert cli.run_log("flaky-1", scripts)["status"] == "FAIL"


def test_runnables_older_on_failure_by_name_and_a_listed_failure_path(scripts, cli):
    done = python("failure_by_name.py", scripts, cli, RUNNABLE_RUN_ID="by-name")
    assert done.returncode == 0, done.stderr  # check fails, notify handles it, the run succeeds
    assert "notified" in done.stdout
    log = cli.run_log("by-name", scripts)
    assert log["status"] == "SUCCESS"
    assert [(name, step["status"]) for name, step in log["steps"].items()] == [
        ("check", "FAIL"), ("notify", "SUCCESS"), ("success", "SUCCESS")]

    wrong = subprocess.run([sys.executable, "failure_by_name.py", "notfy"], check=False, cwd=scripts,
                           env=cli.env(), capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 1
    assert one_error_line(wrong) == ("error: step 'check': on_failure 'notfy' names no step of the pipeline "
                                     "(give on_failure a step or a Pipeline: on_failure=Stub(name='notfy').as_pipeline())")


def test_a_script_importing_from_the_project_root_rebuilds_where_steps_run(scripts, cli):
    """Step processes rebuild the pipeline by importing the script; its own imports come from the
    working folder even when nothing puts it on the path (a container, a pod, no PYTHONPATH)."""
    env = {k: v for k, v in cli.env().items() if k != "PYTHONPATH"}
    done = subprocess.run([str(Path(BIN) / "stepline"), "validate", "pipelines/from_root.py:main"], check=False,
                          cwd=scripts, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_branch_chosen_by_an_expression_is_refused_in_one_line_before_running(scripts, cli):
    done = python("conditional_by_expression.py", scripts, cli)
    assert done.returncode == 1
    assert one_error_line(done) == (
        "error: step 'heads': as_conditional_pipeline(evaluate=\"'$toss' == 'heads'\") is not supported (return "
        "the value from a task and use Conditional(parameter=NAME, branches={VALUE: step.as_pipeline(), ...}))")
    assert not (scripts / ".stepline").exists()


@pytest.mark.parametrize("config", [None, "emulator.yaml"], ids=["local", "emulator"])
def test_runnables_older_job_wrapping_a_task_runs_under_the_jobs_name(scripts, cli, config):
    env = {"RUNNABLE_RUN_ID": "wrapped"} | ({"RUNNABLE_CONFIGURATION_FILE": config} if config else {})
    done = python("wrapped_job.py", scripts, cli, **env)
    assert done.returncode == 0, done.stderr
    log = cli.run_log("wrapped", scripts, *(["-c", config] if config else []))
    assert list(log["steps"]) == ["keeper", "success"]
    assert [item["name"] for item in log["steps"]["keeper"]["data_catalog"]] == ["kept.txt"]


def test_the_error_carries_the_run_id_and_the_run_log(scripts, cli):
    code = ("import flaky\nfrom stepline import ExecutionFailedError, StepLineError\n"
            "try:\n    flaky.main()\nexcept ExecutionFailedError as exc:\n"
            "    assert isinstance(exc, StepLineError)\n"
            "    print(exc.run_id, exc.run_log.status.value, exc.run_log.steps['check'].status.value)\n")
    done = subprocess.run([sys.executable, "-c", code], check=False, cwd=scripts, env=cli.env(RUNNABLE_RUN_ID="caught"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "caught FAIL FAIL"


def test_a_failed_job_makes_the_script_exit_non_zero_and_a_good_one_zero(scripts, cli):
    failed = python("job.py", scripts, cli, RUNNABLE_RUN_ID="job-1")
    assert failed.returncode == 1 and "step 'check_flag' failed: ValueError" in one_error_line(failed)
    passed = python("job.py", scripts, cli, RUNNABLE_RUN_ID="job-2", should_pass="true")
    assert passed.returncode == 0, passed.stderr
    assert cli.run_log("job-2", scripts)["status"] == "SUCCESS"


# ---- environment variables -------------------------------------------------------------------------
def test_retry_run_id_reruns_the_failed_run_skipping_what_succeeded(scripts, cli):
    assert python("flaky.py", scripts, cli, RUNNABLE_RUN_ID="first").returncode == 1
    again = python("flaky.py", scripts, cli, RUNNABLE_RETRY_RUN_ID="first", RUNNABLE_RUN_ID="second",
                   should_pass="true")
    assert again.returncode == 0, again.stderr
    log = cli.run_log("second", scripts)
    assert log["original_run_id"] == "first" and log["status"] == "SUCCESS"
    assert log["steps"]["prepare"]["message"] == "skipped: succeeded in run first"
    assert log["steps"]["check"]["message"] == "" and "flag is set" in again.stdout


def test_retry_of_a_run_of_another_pipeline_is_refused(scripts, cli):
    assert python("flaky.py", scripts, cli, STEPLINE_RUN_ID="flaky").returncode == 1
    done = python("hello_as_pipeline.py", scripts, cli, STEPLINE_RETRY_RUN_ID="flaky")
    assert done.returncode == 1
    assert "the pipeline changed since run 'flaky'" in one_error_line(done)


def test_parameters_file_from_the_environment_overrides_the_argument(scripts, cli):
    default = python("parameters.py", scripts, cli, RUNNABLE_RUN_ID="p-default")
    assert default.returncode == 0, default.stderr
    assert "rate=0.5 epochs=2 label=default" in default.stdout
    override = python("parameters.py", scripts, cli, RUNNABLE_RUN_ID="p-env", RUNNABLE_PARAMETERS_FILE="override.yaml",
                      RUNNABLE_PRM_label='"from-prm"')
    assert override.returncode == 0, override.stderr
    assert "rate=0.25 epochs=8 label=from-prm" in override.stdout
    assert "work is 2.0, label is from-prm" in override.stdout
    log = cli.run_log("p-env", scripts)
    # the Namespace argument received every parameter the function does not name
    assert log["steps"]["use"]["attempts"][0]["input_parameters"].keys() == {"rate", "epochs", "label"}


def test_stepline_names_win_over_runnable_names(scripts, cli):
    done = python("parameters.py", scripts, cli, RUNNABLE_RUN_ID="runnable-id", STEPLINE_RUN_ID="stepline-id",
                  RUNNABLE_PARAMETERS_FILE="defaults.yaml", STEPLINE_PARAMETERS_FILE="override.yaml")
    assert done.returncode == 0, done.stderr
    assert "rate=0.25 epochs=8" in done.stdout
    assert cli.run_log("stepline-id", scripts)["status"] == "SUCCESS"


# ---- loops -----------------------------------------------------------------------------------------
def test_loop_index_is_an_environment_variable_and_max_iterations_ends_the_loop(scripts, cli):
    done = python("loop.py", scripts, cli, RUNNABLE_RUN_ID="loop")
    assert done.returncode == 0, done.stderr
    for i in range(3):
        assert f"python iteration {i}" in done.stdout and f"shell iteration {i}" in done.stdout
    assert "loop ended at iteration 2" in done.stdout
    step = cli.run_log("loop", scripts)["steps"]["again"]
    assert step["status"] == "SUCCESS"
    assert step["message"] == "reached max_iterations (3) before 'stop' became true"


# ---- the same scripts, anywhere ------------------------------------------------------------------
@pytest.mark.parametrize("script", ["fan.py", "loop.py"])
def test_unchanged_scripts_run_on_the_emulator(scripts, cli, script):
    """Every step runs in its own process, which rebuilds the pipeline from the reference found by
    itself: the script's file and the function that called execute() (``main``)."""
    local = python(script, scripts, cli, RUNNABLE_RUN_ID="local")
    emulated = python(script, scripts, cli, RUNNABLE_RUN_ID="emu", RUNNABLE_CONFIGURATION_FILE="emulator.yaml")
    assert local.returncode == emulated.returncode == 0, emulated.stderr
    log = cli.run_log("emu", scripts)
    assert log["pipeline_file"] == f"{script}:main"
    assert log["run_config"]["executor"]["type"] == "emulator"
    assert log["status"] == "SUCCESS" and log["parameters"] == cli.run_log("local", scripts)["parameters"]
    assert sorted(emulated.stdout.splitlines()) == sorted(local.stdout.splitlines())


def test_a_module_level_pipeline_variable_is_found(scripts, cli):
    done = python("module_level.py", scripts, cli, RUNNABLE_RUN_ID="mod", RUNNABLE_CONFIGURATION_FILE="emulator.yaml")
    assert done.returncode == 0, done.stderr
    assert cli.run_log("mod", scripts)["pipeline_file"] == "module_level.py:pipeline"


def test_a_script_in_a_subfolder_is_referenced_from_the_working_folder(scripts, cli):
    (scripts.parent / "emulator.yaml").write_text((scripts / "emulator.yaml").read_text())
    done = python("project/hello_as_pipeline.py", scripts.parent, cli, RUNNABLE_RUN_ID="sub",
                  RUNNABLE_CONFIGURATION_FILE="emulator.yaml")
    assert done.returncode == 0, done.stderr
    log = cli.run_log("sub", scripts.parent)
    assert log["pipeline_file"] == "project/hello_as_pipeline.py:main" and log["status"] == "SUCCESS"


def test_a_pipeline_with_nothing_to_rebuild_it_from_is_a_one_line_error(scripts, cli):
    done = python("inline.py", scripts, cli, RUNNABLE_CONFIGURATION_FILE="emulator.yaml")
    assert done.returncode == 1
    line = one_error_line(done)
    assert "the emulator executor runs steps in other processes" in line
    assert "def main(): ... pipeline.execute(); return pipeline" in line and "reference=" in line
    assert not (scripts / ".stepline" / "runs").exists() or not any((scripts / ".stepline" / "runs").iterdir())


def test_unchanged_script_renders_with_the_demo_renderer_and_the_render_runs(scripts, cli):
    rendered = python("hello_as_pipeline.py", scripts, cli, RUNNABLE_CONFIGURATION_FILE="demo.yaml")
    assert rendered.returncode == 0, rendered.stderr
    assert "rendered hello_as_pipeline.py:main with the demo-renderer executor to run.sh" in rendered.stderr
    assert "FILES=(-f hello_as_pipeline.py:main -c demo.yaml)" in (scripts / "run.sh").read_text()
    env = cli.env(PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    ran = subprocess.run(["bash", "run.sh", "demo-1"], check=False, cwd=scripts, env=env, capture_output=True, text=True,
                         timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert "hello world" in ran.stdout
    log = cli.run_log("demo-1", scripts, "-c", "demo.yaml")
    assert log["status"] == "SUCCESS" and log["parameters"]["greeting"]["value"] == "hello world"
