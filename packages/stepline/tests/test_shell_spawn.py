"""How a shell step's bash is started, on both paths (posix_spawn on Linux, Popen elsewhere): what the
command inherits and what it does not, its own session, the timeout, and a bash that cannot start."""

import os
import time

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
