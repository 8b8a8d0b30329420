"""Shell tasks: ``command`` runs in bash with the caller's environment plus parameters and secrets.

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
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

from stepline.params import decode
from stepline.tasks.base import Invocation, TaskFailed, TaskType

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
        env = {**os.environ, **invocation.environment, **parameter_env(invocation.parameters),
               **invocation.secrets, "STEPLINE_RETURNS": returns_file}
        code = self._spawn(build_script(invocation.node.command, names, capture), env, invocation)
        if code != 0:
            raise TaskFailed(f"command exited with code {code}")

    @staticmethod
    def _spawn(script: str, env: dict[str, str], invocation: Invocation) -> int:
        proc = subprocess.Popen(["bash", "-c", script], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + invocation.timeout if invocation.timeout else None
        try:  # from the start on: an interrupt must still stop the task
            with proc.stdout:
                _read_output(proc.stdout.fileno(), invocation.output, deadline)
            return proc.wait(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise TaskFailed(f"timed out after {invocation.timeout:g} s (timeout_seconds) and was killed") from None
        except BaseException:
            _kill_group(proc)
            raise


def _read_output(fd: int, output: Any, deadline: float | None) -> None:
    """Copy the command's output into the sink as it comes, in this thread, until every process
    holding the pipe has closed it; TimeoutExpired past ``deadline``."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while True:
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not select.select([fd], [], [], wait)[0]:
            raise subprocess.TimeoutExpired("bash", wait or 0)
        chunk = os.read(fd, 65536)
        if not chunk:
            output.write(decoder.decode(b"", final=True))
            return
        output.write(decoder.decode(chunk))


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
