"""Bad input: every error a user can cause is one line on stderr naming the file, the step and the
offending key, with exit code 2 and no traceback (``--debug`` shows one). Errors met while a step
runs (a parameter that cannot be cast, a missing secret) fail that step instead: exit code 1, the
reason in the step log."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

OK_PIPELINE = """
dag:
  start_at: a
  steps:
    a:
      type: stub
"""


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text).lstrip("\n"))


def shell_step(extra: str = "") -> str:
    """A one-step shell pipeline; ``extra`` lines are added to step 'a'."""
    lines = ["dag:", "  start_at: a", "  steps:", "    a:", "      type: task", "      command_type: shell",
             '      command: "true"']
    lines += ["      " + line for line in extra.splitlines()]
    return "\n".join(lines) + "\n"


# (id, files, extra CLI args, the exact error line)
BAD_INPUT = [
    ("unknown key", {"pipeline.yaml": shell_step("nxt: b")}, [],
     "pipeline.yaml: step 'a': unknown key 'nxt' (did you mean 'next'?)"),
    ("unknown nested key", {"pipeline.yaml": shell_step("catalog:\n  gett: [x]")}, [],
     "pipeline.yaml: step 'a': unknown key 'catalog.gett'"),
    ("bad value", {"pipeline.yaml": shell_step("max_attempts: 0")}, [],
     "pipeline.yaml: step 'a': key 'max_attempts': Input should be greater than or equal to 1"),
    ("catalog pattern escapes", {"pipeline.yaml": shell_step("catalog:\n  put: [../x]")}, [],
     "pipeline.yaml: step 'a': key 'catalog.put': catalog pattern '../x' must stay inside the data folder "
     "(no absolute paths, no '..')"),
    ("unknown step type", {"pipeline.yaml": "dag:\n  start_at: a\n  steps:\n    a:\n      type: tsk\n"}, [],
     "pipeline.yaml: step 'a': unknown step type 'tsk' (did you mean 'task'?)"),
    ("unknown task type", {"pipeline.yaml": shell_step().replace("command_type: shell", "command_type: bash")}, [],
     "pipeline.yaml: step 'a': unknown task type 'bash' (installed: notebook, python, shell)"),
    ("next to a missing step",
     {"pipeline.yaml": "dag:\n  start_at: a\n  steps:\n    a:\n      type: stub\n      next: bb\n"
                       "    b:\n      type: stub\n"}, [],
     "pipeline.yaml: step 'a': 'next' names step 'bb', which does not exist (did you mean 'b'?)"),
    ("on_failure to a missing step",
     {"pipeline.yaml": "dag:\n  start_at: a\n  steps:\n    a:\n      type: stub\n      on_failure: cleanup\n"}, [],
     "pipeline.yaml: step 'a': 'on_failure' names step 'cleanup', which does not exist (steps: a, success, fail)"),
    ("cycle",
     {"pipeline.yaml": "dag:\n  start_at: a\n  steps:\n    a:\n      type: stub\n      next: b\n"
                       "    b:\n      type: stub\n      next: a\n"}, [],
     "pipeline.yaml: step 'a': the steps form a cycle: a -> b -> a (use a 'loop' step to repeat work)"),
    ("name with a dot", {"pipeline.yaml": "dag:\n  start_at: a.b\n  steps:\n    a.b:\n      type: stub\n"}, [],
     "pipeline.yaml: step 'a.b': illegal step name 'a.b': names may not be empty or contain '.' or '%' "
     "(rename the step)"),
    ("missing start_at", {"pipeline.yaml": "dag:\n  steps:\n    a:\n      type: stub\n"}, [],
     "pipeline.yaml: dag: missing 'start_at'"),
    ("start_at names a missing step", {"pipeline.yaml": "dag:\n  start_at: x\n  steps:\n    a:\n      type: stub\n"},
     [], "pipeline.yaml: start_at names step 'x', which does not exist (steps: a, success, fail)"),
    ("unknown top-level key", {"pipeline.yaml": "dg:\n  start_at: a\n"}, [],
     "pipeline.yaml: unknown top-level key 'dg' (did you mean 'dag'?)"),
    ("invalid YAML", {"pipeline.yaml": "dag:\n  start_at: a\n  steps:\n    a: [\n"}, [],
     "pipeline.yaml: invalid YAML: line 5, column 1: did not find expected node content (fix the YAML syntax)"),
    ("pipeline file not found", {}, [],
     "pipeline.yaml: pipeline file not found (check the path)"),
    ("unknown config section", {"config.yaml": "run_log_stor:\n  type: buffered\n"}, ["-c", "config.yaml"],
     "config.yaml: unknown section 'run_log_stor' (did you mean 'run_log_store'?)"),
    ("unknown config key", {"config.yaml": "run_log_store:\n  type: chunked-fs\n  confg: {}\n"}, ["-c", "config.yaml"],
     "config.yaml: section 'run_log_store': unknown key 'confg' (did you mean 'config'?)"),
    ("unknown config setting",
     {"config.yaml": "run_log_store:\n  type: chunked-fs\n  config:\n    log_foldr: logs\n"}, ["-c", "config.yaml"],
     "config.yaml: run_log_store 'chunked-fs': unknown setting 'log_foldr' (did you mean 'log_folder'?)"),
    ("config setting YAML reads as a number",
     {"config.yaml": "run_log_store:\n  type: chunked-fs\n  config:\n    log_folder: 2026\n"}, ["-c", "config.yaml"],
     "config.yaml: run_log_store 'chunked-fs': setting 'log_folder': Input should be a valid string "
     "(YAML reads that value as a number: put it in quotes)"),
    ("shell command YAML reads as a boolean",
     {"pipeline.yaml": "dag:\n  start_at: a\n  steps:\n    a:\n      type: task\n      command_type: shell\n"
                       "      command: yes\n"}, [],
     "pipeline.yaml: step 'a': key 'command': Input should be a valid string "
     "(YAML reads that value as a boolean: put it in quotes)"),
    ("unknown config type", {"config.yaml": "catalog:\n  type: file-sytem\n"}, ["-c", "config.yaml"],
     "config.yaml: unknown catalog type 'file-sytem' (did you mean 'file-system'?)"),
    ("unknown config type in a dashed alias section", {"config.yaml": "run-log-store:\n  type: chunky\n"},
     ["-c", "config.yaml"], "config.yaml: unknown run log store type 'chunky' (did you mean 'chunked-fs'?)"),
    ("missing placeholder",
     {"config.yaml": "run_log_store:\n  type: chunked-fs\n  config:\n    log_folder: ${STEPLINE_TEST_NOPE}/runs\n"},
     ["-c", "config.yaml"],
     "config.yaml: run_log_store.config.log_folder: placeholder '${STEPLINE_TEST_NOPE}' is not set in the environment "
     "(export STEPLINE_TEST_NOPE=... or write ${STEPLINE_TEST_NOPE:-default})"),
    ("python module does not import",
     {"pipeline.yaml": "dag:\n  start_at: a\n  steps:\n    a:\n      type: task\n      command: nosuchmod.func\n"}, [],
     "pipeline.yaml: step 'a': cannot import 'nosuchmod' for command 'nosuchmod.func': No module named 'nosuchmod' "
     "(run from the folder that holds it, or put it on PYTHONPATH)"),
    ("python function missing",
     {"pipeline.yaml": "dag:\n  start_at: a\n  steps:\n    a:\n      type: task\n      command: tasks.nope\n",
      "tasks.py": "def f():\n    pass\n"}, [],
     "pipeline.yaml: step 'a': 'tasks' has no function 'nope' (check the command)"),
    ("integration problem", {"config.yaml": "executor:\n  type: emulator\nrun_log_store:\n  type: buffered\n"},
     ["-c", "config.yaml"],
     "config.yaml: the emulator executor runs steps in other processes on this machine, but the buffered run log store is "
     "reachable from this process only; use chunked-fs or file-system"),
    ("parameters file not a mapping", {"params.yaml": "- 1\n"}, ["-p", "params.yaml"],
     "params.yaml: a parameters file must be a mapping of name: value"),
]


@pytest.mark.parametrize("files, args, message", [case[1:] for case in BAD_INPUT],
                         ids=[case[0] for case in BAD_INPUT])
def test_bad_input_is_one_line_and_exit_2(tmp_path, cli, files, args, message):
    write(tmp_path, {"pipeline.yaml": OK_PIPELINE, **files} if "pipeline file not found" not in message else {})
    done = cli.run("execute", "pipeline.yaml", *args, cwd=tmp_path)
    assert done.code == 2, done.output
    assert done.stderr == f"error: {message}\n"
    assert done.stdout == ""
    assert "Traceback" not in done.output
    assert not (tmp_path / ".stepline").exists()  # nothing ran, no run log was created



VALIDATE_CASES = ["unknown key", "cycle", "unknown config setting", "python module does not import"]


@pytest.mark.parametrize("files, args, message", [c[1:] for c in BAD_INPUT if c[0] in VALIDATE_CASES],
                         ids=VALIDATE_CASES)
def test_validate_reports_the_same_errors(tmp_path, cli, files, args, message):
    write(tmp_path, {"pipeline.yaml": OK_PIPELINE, **files})
    done = cli.run("validate", "pipeline.yaml", *args, cwd=tmp_path)
    assert (done.code, done.stdout, done.stderr) == (2, "", f"error: {message}\n")


def test_validate_ok_prints_steps_and_runs_nothing(tmp_path, cli):
    write(tmp_path, {"pipeline.yaml": shell_step("next: b") + "    b:\n      type: stub\n"})
    done = cli.run("validate", "pipeline.yaml", cwd=tmp_path)
    assert (done.code, done.stdout) == (0, "ok: 2 steps, executor local\n")
    assert not (tmp_path / ".stepline").exists()


def test_unreachable_step_is_a_warning(tmp_path, cli):
    write(tmp_path, {"pipeline.yaml": OK_PIPELINE + "    orphan:\n      type: stub\n"})
    done = cli.run("execute", "pipeline.yaml", cwd=tmp_path)
    assert done.code == 0
    assert "warning: pipeline.yaml: step 'orphan' can never be reached from 'a'\n" in done.stderr


def test_parameter_that_cannot_be_cast_fails_the_step(tmp_path, cli):
    write(tmp_path, {
        "tasks.py": "def count(n: int):\n    print('ran with', n)\n",
        "params.yaml": "n: abc\n",
        "pipeline.yaml": "dag:\n  start_at: a\n  steps:\n    a:\n      type: task\n      command: tasks.count\n"
                         "      max_attempts: 3\n",
    })
    done = cli.run("execute", "pipeline.yaml", "-p", "params.yaml", "--run-id", "cast", cwd=tmp_path)
    expected = ("parameter 'n' = 'abc' cannot be cast to int: Input should be a valid integer, unable to parse "
                "string as an integer (fix the value or the annotation)")
    assert done.code == 1, done.output
    assert "ran with" not in done.stdout  # the function was never called
    assert expected in done.stderr and "Traceback" not in done.output
    log = cli.run_log("cast", tmp_path)
    step = log["steps"]["a"]
    assert (log["status"], step["status"], step["message"]) == ("FAIL", "FAIL", expected)
    # a parameter error will not pass on retry: one attempt, not max_attempts
    assert [(a["status"], a["message"]) for a in step["attempts"]] == [("FAIL", expected)]


def test_missing_parameter_fails_the_step(tmp_path, cli):
    write(tmp_path, {
        "tasks.py": "def count(n: int):\n    pass\n",
        "pipeline.yaml": "dag:\n  start_at: a\n  steps:\n    a:\n      type: task\n      command: tasks.count\n",
    })
    done = cli.run("execute", "pipeline.yaml", "--run-id", "missing", cwd=tmp_path)
    assert done.code == 1
    assert cli.run_log("missing", tmp_path)["steps"]["a"]["message"] == (
        "function 'tasks.count' needs parameter 'n', which is not set "
        "(set it in the parameters file or return it from an earlier step)")


@pytest.mark.parametrize("config, expected", [
    ("", "secret 'API_KEY_FOR_TEST' is not in the env secrets backend (export API_KEY_FOR_TEST=... before the run)"),
    ("secrets:\n  type: dotenv\n  config:\n    location: my.env\n",
     "secret 'API_KEY_FOR_TEST' is not in the dotenv secrets backend (add API_KEY_FOR_TEST=... to my.env)"),
    ("secrets:\n  type: do-nothing\n",
     "secret 'API_KEY_FOR_TEST' is not in the do-nothing secrets backend "
     "(configure a secrets backend such as env or dotenv)"),
], ids=["env", "dotenv", "do-nothing"])
def test_missing_secret_fails_the_step(tmp_path, cli, config, expected):
    write(tmp_path, {
        "pipeline.yaml": shell_step("secrets: [API_KEY_FOR_TEST]").replace('"true"', "echo task ran"),
        "config.yaml": config or "secrets:\n  type: env\n",
        "my.env": "OTHER=1\n",
    })
    done = cli.run("execute", "pipeline.yaml", "-c", "config.yaml", "--run-id", "sec", cwd=tmp_path)
    assert done.code == 1, done.output
    assert "task ran" not in done.stdout  # the command never started
    assert expected in done.stderr and "Traceback" not in done.output
    step = cli.run_log("sec", tmp_path)["steps"]["a"]
    assert (step["status"], step["message"]) == ("FAIL", expected)


def test_runs_show_unknown_run(tmp_path, cli):
    done = cli.run("runs", "show", "no-such-run", cwd=tmp_path)
    assert done.code == 2
    assert done.stderr == "error: no run 'no-such-run' in the chunked-fs run log store (see `stepline runs list`)\n"
    assert "Traceback" not in done.output


def test_run_id_already_used(tmp_path, cli):
    write(tmp_path, {"pipeline.yaml": OK_PIPELINE})
    assert cli.run("execute", "pipeline.yaml", "--run-id", "same", cwd=tmp_path).code == 0
    again = cli.run("execute", "pipeline.yaml", "--run-id", "same", cwd=tmp_path)
    assert (again.code, again.stderr) == (2, "error: run id 'same' is already used (pick another --run-id or leave it out)\n")


def test_two_different_pipelines(tmp_path, cli):
    write(tmp_path, {"pipeline.yaml": OK_PIPELINE, "other.yaml": OK_PIPELINE})
    done = cli.run("execute", "pipeline.yaml", "-f", "other.yaml", cwd=tmp_path)
    assert (done.code, done.stderr) == (2, "error: two pipelines given ('pipeline.yaml' and -f 'other.yaml') (give one)\n")


def test_debug_shows_the_traceback(tmp_path, cli):
    write(tmp_path, {"pipeline.yaml": "dag:\n  start_at: a\n  steps:\n    a:\n      type: tsk\n"})
    done = cli.run("--debug", "execute", "pipeline.yaml", cwd=tmp_path)
    assert done.code == 2
    assert done.stderr.startswith("Traceback (most recent call last):")
    assert "stepline.errors.PipelineDefinitionError" in done.stderr
    assert done.stderr.endswith("error: pipeline.yaml: step 'a': unknown step type 'tsk' (did you mean 'task'?)\n")
