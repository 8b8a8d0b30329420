"""Shell tasks: ``command`` runs in bash with the caller's environment plus parameters and secrets
(a command of plain words is started as bash would start it, without bash: ``plain_command``).

Returns are read after the command from the variables it exported, written by a trailer into a
private file (never printed or logged; only the names in ``returns`` are kept), or from
``name=value`` lines the command writes to the file named by ``$STEPLINE_RETURNS``.
"""

from __future__ import annotations

import codecs
import json
import os
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

from stepline.params import decode
from stepline.tasks.base import Invocation, TaskFailed, TaskType
from stepline.tasks.plain_command import start_directly

_NAME_OK = __import__("re").compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parameter_env(parameters: dict[str, Any]) -> dict[str, str]:
    """Parameters as environment variables: strings as they are, everything else as JSON. An
    ``object`` parameter (a pickled Python value) has no text form and is left out."""
    env = {}
    for name, value in parameters.items():
        if not _NAME_OK.match(name):
            continue
        try:
            env[name] = value if isinstance(value, str) else json.dumps(value)
        except TypeError:
            continue
    return env


def build_script(command: str, names: list[str], capture_path: str) -> str:
    """The user's command, then a trailer that records the listed variables NUL-separated."""
    if not names:
        return command
    lines = [command, "__stepline_rc=$?", f"__stepline_out={shlex.quote(capture_path)}"]
    for name in names:
        lines.append(f'if [ -n "${{{name}+set}}" ]; then printf "%s\\0%s\\0" {name} "${{{name}}}" >> "$__stepline_out"; fi')
    lines.append("exit $__stepline_rc")
    return "\n".join(lines)


def read_capture(path: Path) -> dict[str, str]:
    try:
        parts = path.read_bytes().split(b"\0")
    except FileNotFoundError:
        return {}
    return {parts[i].decode(): parts[i + 1].decode("utf-8", "replace") for i in range(0, len(parts) - 1, 2)}


def read_returns_file(path: Path) -> dict[str, str]:
    values = {}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return values
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            values[key.strip()] = value
    return values


class ShellTaskType(TaskType):
    name: ClassVar[str] = "shell"

    def run(self, invocation: Invocation) -> dict[str, Any]:
        names = [r.name for r in invocation.node.returns]
        if not names:  # nothing to read back: no private folder to make and remove
            self._run(invocation, names, os.devnull, os.devnull)
            return {}
        with tempfile.TemporaryDirectory(prefix="stepline-") as private:
            capture = Path(private) / "exported"
            returns_file = Path(private) / "returns"
            self._run(invocation, names, str(capture), str(returns_file))
            found = {**read_capture(capture), **read_returns_file(returns_file)}
        missing = [n for n in names if n not in found]
        if missing:
            raise TaskFailed(f"'returns' names '{missing[0]}' but the command neither exported it "
                             "nor wrote it to $STEPLINE_RETURNS")
        return {name: decode(found[name]) for name in names}

    def _run(self, invocation: Invocation, names: list[str], capture: str, returns_file: str) -> None:
        own = {**invocation.environment, **parameter_env(invocation.parameters), **invocation.secrets,
               "STEPLINE_RETURNS": returns_file}
        code = _spawn(build_script(invocation.node.command, names, capture), own, invocation)
        if code != 0:
            raise TaskFailed(f"command exited with code {code}")


def _spawn(script: str, own: dict[str, str], invocation: Invocation) -> int:
    """Run ``script`` in bash (or, when it is one plain command, that command as bash would start it:
    :mod:`stepline.tasks.plain_command`), in a session of its own, with this process's environment
    plus ``own``, stdin from the null device and stdout and stderr into one pipe read into the sink;
    the exit code (negative: the signal that ended it). Past the timeout, or when interrupted, the
    whole session is killed."""
    env = _environment(own)
    direct = start_directly(script, env)
    inherited = _inherited_fds() if _SPAWN else None
    if inherited is None:
        return _popen(script, direct, env, invocation)
    read_end, write_end = os.pipe()
    try:
        if write_end <= 2:  # fds 0-2 were closed here: keep the child's redirects from overwriting it
            write_end = _above_two(write_end)
        actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0), (os.POSIX_SPAWN_DUP2, write_end, 1),
                   (os.POSIX_SPAWN_DUP2, write_end, 2), *((os.POSIX_SPAWN_CLOSE, fd) for fd in inherited)]
        pid = None
        if direct is not None:
            try:
                pid = os.posix_spawn(*direct, file_actions=actions, setsid=True, setsigdef=_DEFAULT_SIGNALS)
            except OSError:  # e.g. a script without a #! line: bash runs it, or says why not
                pass
        if pid is None:
            path = env.get(b"PATH", os.defpath.encode())
            try:
                pid = os.posix_spawn(_bash_on(path), ["bash", "-c", script], env, file_actions=actions,
                                     setsid=True, setsigdef=_DEFAULT_SIGNALS)
            except OSError as exc:  # bash gone since it was found, or the environment too large (E2BIG)
                _BASH.pop(path, None)
                raise TaskFailed(f"bash could not start: {exc}") from None
    except BaseException as exc:
        os.close(read_end)
        if isinstance(exc, NotImplementedError):  # a C library without POSIX_SPAWN_SETSID (glibc < 2.26)
            _use_popen()
            return _popen(script, direct, env, invocation)
        raise
    finally:
        os.close(write_end)
    deadline = time.monotonic() + invocation.timeout if invocation.timeout else None
    try:  # from the start on: an interrupt must still stop the task
        try:
            _read_output(read_end, invocation.output, deadline)
        finally:
            os.close(read_end)
        return _wait(pid, deadline)
    except subprocess.TimeoutExpired:
        _kill_session(pid)
        _reap(pid)
        raise TaskFailed(f"timed out after {invocation.timeout:g} s (timeout_seconds) and was killed") from None
    except BaseException:
        _kill_session(pid)
        _reap(pid)
        raise


#: posix_spawn with a new session (Linux): no fork of this process and no Python code between fork and
#: exec, about 0.3-0.5 ms less per shell step than subprocess.Popen. Elsewhere, Popen.
_SPAWN = sys.platform.startswith("linux") and hasattr(os, "posix_spawn")
#: Python ignores SIGPIPE (and SIGXFSZ); a command gets the defaults, as Popen gives them.
_DEFAULT_SIGNALS = tuple(getattr(signal, name) for name in ("SIGPIPE", "SIGXFSZ") if hasattr(signal, name))
#: bash's file by PATH value, looked up once (as exec would look it up).
_BASH: dict[bytes, str] = {}


def _use_popen() -> None:
    """From now on, Popen: this C library's posix_spawn cannot start a session."""
    global _SPAWN
    _SPAWN = False


def _environment(own: dict[str, str]) -> dict[bytes, bytes]:
    """This process's environment with ``own`` over it, as bytes: ``os.environ``'s own bytes copied in
    one go (not its ~100 variables decoded and encoded again for every step), and only ``own`` encoded."""
    data = getattr(os.environ, "_data", None)
    if os.supports_bytes_environ and isinstance(data, dict):
        env = data.copy()
    else:
        env = {os.fsencode(key): os.fsencode(value) for key, value in os.environ.items()}
    for key, value in own.items():
        env[os.fsencode(key)] = os.fsencode(value)
    return env


def _bash_on(path: bytes) -> str:
    found = _BASH.get(path)
    if found is None:
        found = shutil.which("bash", path=os.fsdecode(path))
        if found is None:
            raise TaskFailed(f"bash is not on the PATH ({os.fsdecode(path)}); shell tasks run in bash")
        if os.path.isabs(found):  # one found through a relative PATH entry depends on the current folder
            _BASH[path] = found
    return found


def _inherited_fds() -> list[int] | None:
    """The descriptors above 2 a child would inherit, which Popen (``close_fds``) closes and posix_spawn
    must be told to close; None when they cannot be listed."""
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return None
    found = []
    for name in names:
        fd = int(name)
        try:
            if fd > 2 and os.get_inheritable(fd):
                found.append(fd)
        except OSError:  # the listing's own descriptor, closed since
            continue
    return found


def _above_two(fd: int) -> int:
    import fcntl

    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    os.close(fd)
    return moved


def _wait(pid: int, deadline: float | None) -> int:
    """The exit code of child ``pid``; TimeoutExpired past ``deadline`` (a command that closed its
    output and runs on)."""
    if deadline is None:
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    delay = 0.0005
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise subprocess.TimeoutExpired("bash", 0)
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.05)


def _kill_session(pid: int) -> None:
    """Kill the command's session: its process group, which the command leads."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _popen(script: str, direct: tuple[str, list[str], dict[bytes, bytes]] | None, env: dict[bytes, bytes],
           invocation: Invocation) -> int:
    """:func:`_spawn` where posix_spawn cannot start a session (or descriptors cannot be listed)."""
    options = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "stdin": subprocess.DEVNULL,
               "start_new_session": True}
    proc = None
    if direct is not None:
        program, argv, child = direct
        try:
            proc = subprocess.Popen(argv, executable=program, env=child, **options)
        except OSError:  # bash runs it, or says why not
            pass
    if proc is None:
        try:
            proc = subprocess.Popen(["bash", "-c", script], env=env, **options)
        except OSError as exc:
            raise TaskFailed(f"bash could not start: {exc}") from None
    deadline = time.monotonic() + invocation.timeout if invocation.timeout else None
    try:  # from the start on: an interrupt must still stop the task
        with proc.stdout:
            _read_output(proc.stdout.fileno(), invocation.output, deadline)
        return proc.wait(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        _kill_session(proc.pid)
        proc.wait()
        raise TaskFailed(f"timed out after {invocation.timeout:g} s (timeout_seconds) and was killed") from None
    except BaseException:
        _kill_session(proc.pid)
        proc.wait()
        raise


def _read_output(fd: int, output: Any, deadline: float | None) -> None:
    """Copy the command's output into the sink as it comes, in this thread, until every process
    holding the pipe has closed it; TimeoutExpired past ``deadline``."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while True:
        if deadline is not None:  # without one, the read itself waits
            wait = max(0.0, deadline - time.monotonic())
            if not select.select([fd], [], [], wait)[0]:
                raise subprocess.TimeoutExpired("bash", wait)
        chunk = os.read(fd, 65536)
        if not chunk:
            output.write(decoder.decode(b"", final=True))
            return
        output.write(decoder.decode(chunk))
