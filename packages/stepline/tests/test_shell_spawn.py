"""How a shell step's bash (or plain program) is started, on both paths (posix_spawn on Linux, Popen
elsewhere): what the command inherits and what it does not, its own session, the timeout, a bash that
cannot start, and a command of plain words started without bash."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from stepline.run.execute import execute
from stepline.runlog.models import Status
from stepline.tasks import shell


@pytest.fixture(params=["posix_spawn", "popen"])
def spawn(request, monkeypatch):
    """Each test runs on both ways of starting bash."""
    if request.param == "popen":
        monkeypatch.setattr(shell, "_SPAWN", False)
    elif not shell._SPAWN:
        pytest.skip("posix_spawn with a new session is used on Linux only")
    return request.param


def run(write, command: str, *, params: str | None = None, **step):
    extra = "".join(f", {key}: {value}" for key, value in step.items())
    write("pipeline.yaml", f"dag: {{start_at: a, steps: {{a: {{type: task, command_type: shell, "
                           f"command: {command!r}{extra}}}}}}}\n")
    if params:
        write("params.yaml", params)
    return execute("pipeline.yaml", None, "params.yaml" if params else None, quiet=True)


def log_text(log) -> str:
    from stepline.config.loader import load_services

    return load_services(None).catalog.get_bytes(f"{log.run_id}/logs/a.attempt-1.log").decode()


def test_the_command_gets_default_sigpipe(write, spawn):
    # Python ignores SIGPIPE; a pipeline whose reader stops early must still end its writer by the
    # signal (exit 141), not by a write error
    log = run(write, 'yes | head -n 1 > /dev/null; echo "writer ${PIPESTATUS[0]}"')
    assert log.status == Status.SUCCESS
    assert "writer 141" in log_text(log)


def test_inheritable_descriptors_are_not_passed_on(write, spawn):
    read_end, write_end = os.pipe()
    os.set_inheritable(write_end, True)
    try:
        log = run(write, f'if [ -e /proc/self/fd/{write_end} ]; then echo leaked; else echo closed; fi')
    finally:
        os.close(read_end)
        os.close(write_end)
    assert log.status == Status.SUCCESS
    assert "closed" in log_text(log)


def test_environment_is_this_process_plus_the_steps_own(write, spawn, monkeypatch):
    monkeypatch.setenv("FROM_CALLER", "caller-value")
    log = run(write, 'echo "caller=$FROM_CALLER count=$count name=$name"; test -n "$PATH"',
              params="count: 3\nname: über\n")
    assert log.status == Status.SUCCESS
    assert "caller=caller-value count=3 name=über" in log_text(log)


def test_the_command_leads_its_own_session_and_stdin_is_empty(write, spawn):
    log = run(write, 'read -r session < /proc/self/stat; set -- ${session##*) }; '
                     'test "$4" = "$$" && echo leads; read -r line || echo no-input')
    assert log.status == Status.SUCCESS
    text = log_text(log)
    assert "leads" in text and "no-input" in text


def test_timeout_kills_what_the_command_started(write, spawn, workdir):
    started = time.monotonic()
    log = run(write, 'sleep 30 & echo $! > bg.pid; sleep 30', timeout_seconds=0.5)
    assert time.monotonic() - started < 10
    assert "timed out after 0.5 s" in log.steps["a"].message
    background = int((workdir / "bg.pid").read_text())
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{background}") and time.monotonic() < deadline:
        with open(f"/proc/{background}/stat") as handle:  # a zombie waiting for init is gone too
            if handle.read().split(") ", 1)[1].startswith("Z"):
                break
        time.sleep(0.05)
    else:
        assert not os.path.exists(f"/proc/{background}"), "the background sleep outlived the timeout"


def test_timeout_holds_for_a_command_that_closed_its_output(write, spawn):
    started = time.monotonic()
    log = run(write, 'exec > /dev/null 2>&1; sleep 30', timeout_seconds=0.5)
    assert time.monotonic() - started < 10
    assert "timed out after 0.5 s" in log.steps["a"].message


def test_a_bash_that_cannot_start_fails_the_step_with_the_reason(write, spawn):
    # one variable longer than the kernel takes (MAX_ARG_STRLEN, 128 KiB): exec fails with E2BIG
    log = run(write, "true", params=f"big: {'x' * 200_000}\n")
    assert log.status == Status.FAIL
    assert log.steps["a"].message.startswith("bash could not start: [Errno 7] Argument list too long")


def test_no_bash_on_the_path_fails_the_step(write, spawn):
    log = run(write, "true", params="PATH: /nonexistent-stepline-bin\n")
    assert log.status == Status.FAIL
    expected = "bash is not on the PATH (/nonexistent-stepline-bin)" if spawn == "posix_spawn" else \
        "bash could not start: [Errno 2] No such file or directory"
    assert log.steps["a"].message.startswith(expected)


def test_a_posix_spawn_without_sessions_falls_back_to_popen(write, monkeypatch):
    if not shell._SPAWN:
        pytest.skip("posix_spawn path only")
    monkeypatch.setattr(shell, "_SPAWN", True)  # put back after the test

    def no_setsid(*args, **kwargs):
        raise NotImplementedError("setsid is not supported")  # what an old C library gives

    monkeypatch.setattr(shell.os, "posix_spawn", no_setsid)
    log = run(write, 'read -r session < /proc/self/stat; set -- ${session##*) }; test "$4" = "$$" && echo "still ran"')
    assert log.status == Status.SUCCESS
    assert "still ran" in log_text(log)
    assert shell._SPAWN is False


# A command of plain words is started without bash (stepline.tasks.plain_command), on both ways

@pytest.fixture
def started(monkeypatch):
    """The files started for each step: the program, or bash."""
    files = []
    real_spawn, real_popen = os.posix_spawn, subprocess.Popen

    def posix_spawn(path, argv, env, **options):
        files.append(os.path.basename(path))
        return real_spawn(path, argv, env, **options)

    def popen(argv, *args, executable=None, **options):
        files.append(os.path.basename(executable or argv[0]))
        return real_popen(argv, *args, executable=executable, **options)

    monkeypatch.setattr(os, "posix_spawn", posix_spawn)
    monkeypatch.setattr(shell.subprocess, "Popen", popen)
    return files


def test_a_plain_command_is_started_without_bash(write, spawn, started):
    log = run(write, "echo hello    world")
    assert log.status == Status.SUCCESS
    assert log_text(log) == "hello world\n"
    assert started == ["echo"]


def test_a_line_with_shell_syntax_runs_in_bash(write, spawn, started):
    log = run(write, "echo hello; echo world")
    assert log.status == Status.SUCCESS
    assert log_text(log) == "hello\nworld\n"
    assert started == ["bash"]


def test_a_failing_plain_command_fails_the_step_with_its_code(write, spawn, started):
    log = run(write, "false")
    assert log.status == Status.FAIL
    assert "exited with code 1" in log.steps["a"].message
    assert started == ["false"]


def test_a_script_without_a_hash_bang_line_is_run_by_bash(write, spawn, started, workdir):
    job = workdir / "job"
    job.write_text("echo from the script ${BASH_VERSION:+in bash}\n")
    job.chmod(0o755)
    log = run(write, "./job")
    assert log.status == Status.SUCCESS
    assert log_text(log) == "from the script in bash\n"
    assert started == ["job", "bash"]


def test_a_command_not_found_is_reported_by_bash(write, spawn, started):
    log = run(write, "no-such-program-here --flag")
    assert log.status == Status.FAIL
    assert "exited with code 127" in log.steps["a"].message
    assert "no-such-program-here: command not found" in log_text(log)
    assert started == ["bash"]


def test_an_exported_function_still_shadows_the_program(write, spawn, started, monkeypatch):
    monkeypatch.setenv("BASH_FUNC_true%%", "() { echo shadowed; }")
    log = run(write, "true")
    assert log_text(log) == "shadowed\n"
    assert started == ["bash"]


def test_parameters_and_secrets_reach_the_program(write, spawn, started):
    log = run(write, "env", params="count: 3\nname: über\n")
    assert log.status == Status.SUCCESS
    lines = log_text(log).splitlines()
    assert "count=3" in lines and "name=über" in lines and "STEPLINE_RETURNS=/dev/null" in lines
    assert started == ["env"]


def test_a_plain_program_leads_its_own_session_with_empty_stdin_and_default_sigpipe(write, spawn, started):
    log = run(write, "cat /proc/self/stat /proc/self/status -")
    assert log.status == Status.SUCCESS
    stat, _, status = log_text(log).partition("\n")
    fields = stat.rsplit(")", 1)[1].split()
    assert fields[3] == stat.split()[0]  # session id == its own pid
    ignored = int(next(line for line in status.splitlines() if line.startswith("SigIgn:")).split()[1], 16)
    assert not ignored & (1 << (13 - 1))  # SIGPIPE at its default, not Python's "ignore"
    assert started == ["cat"]


def test_a_plain_program_does_not_inherit_descriptors(write, spawn, started):
    read_end, write_end = os.pipe()
    os.set_inheritable(write_end, True)
    try:
        log = run(write, "ls /proc/self/fd")
    finally:
        os.close(read_end)
        os.close(write_end)
    assert log.status == Status.SUCCESS
    assert str(write_end) not in log_text(log).split()
    assert started == ["ls"]


def test_timeout_kills_a_plain_program(write, spawn, started):
    began = time.monotonic()
    log = run(write, "sleep 30", timeout_seconds=0.5)
    assert time.monotonic() - began < 10
    assert "timed out after 0.5 s" in log.steps["a"].message
    assert started == ["sleep"]


def test_returns_still_run_in_bash(write, spawn, started):
    write("pipeline.yaml", "dag: {start_at: a, steps: {a: {type: task, command_type: shell, command: 'true', "
                           "returns: [x]}}}\n")
    log = execute("pipeline.yaml", None, None, quiet=True)
    assert log.status == Status.FAIL  # the trailer ran (in bash) and found no x
    assert "'returns' names 'x'" in log.steps["a"].message
    assert started == ["bash"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_run_stops_a_plain_program(write, workdir, signum):
    # the step waits in a plain read of the program's output: the signal must still end the run,
    # kill the program's session and record the step as interrupted
    write("pipeline.yaml", "dag: {start_at: a, steps: {a: {type: task, command_type: shell, command: 'sleep 60'}}}\n")
    stepline = os.path.join(os.path.dirname(sys.executable), "stepline")
    proc = subprocess.Popen([stepline, "execute", "pipeline.yaml", "--run-id", "stopped"], cwd=workdir,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    children = f"/proc/{proc.pid}/task/{proc.pid}/children"
    deadline = time.monotonic() + 20
    sleeper = None
    while sleeper is None and time.monotonic() < deadline:
        for pid in Path(children).read_text().split():
            with contextlib.suppress(FileNotFoundError):  # a child that has just ended
                if Path(f"/proc/{pid}/comm").read_text().strip() == "sleep":
                    sleeper = int(pid)
        time.sleep(0.02)
    assert sleeper is not None, "the step's program did not start"
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 128 + signum
    assert b"Traceback" not in err
    deadline = time.monotonic() + 10
    while _alive(sleeper) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(sleeper)
    shown = subprocess.run([stepline, "runs", "show", "stopped", "--json"], cwd=workdir, capture_output=True,
                           text=True, check=True)
    step = json.loads(shown.stdout)["steps"]["a"]
    assert (step["status"], step["message"]) == ("FAIL", "interrupted")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
