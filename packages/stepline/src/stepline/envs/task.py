"""The task type of a step with an environment: each attempt runs in the environment's interpreter.

The step context (parameters read, catalog get/put, retries, the run log, secrets from the secrets
backend, output masking) stays in Stepline's process, as for every step; only the attempt itself
moves: :mod:`stepline.envs.child` binds and casts the parameters, unpickles object parameters, calls
the task and pickles object returns there, since only that environment may import their types.
"""

from __future__ import annotations

import os
import pickle
import signal
import threading
from typing import TYPE_CHECKING, Any, ClassVar

from stepline.errors import StepLineError
from stepline.pipeline.uv_spec import effective_spec
from stepline.tasks.base import Invocation, Pickled, TaskFailed, TaskType

if TYPE_CHECKING:
    import subprocess

    from stepline.envs.uv import Environment
    from stepline.pipeline.nodes import TaskNode

#: Time a child gets beyond the task's own timeout (which the child enforces) to start and report.
GRACE_SECONDS = 30.0


def environment_for(node: TaskNode) -> Environment | None:
    """The built environment of a task step, or None for a step that runs in Stepline's process."""
    spec, source = effective_spec(node)
    if spec is None:
        return None
    from stepline.envs.uv import ensure

    return ensure(spec, source)


class EnvironmentTask(TaskType):
    """Wraps the step's own task type (python, shell, notebook) to run it in ``environment``."""

    name: ClassVar[str] = "environment"
    takes_pickled: ClassVar[bool] = True

    def __init__(self, inner: TaskType, environment: Environment) -> None:
        super().__init__()
        self.inner = inner
        self.environment = environment

    def inputs(self, node, available: list[str]) -> list[str]:
        if node.command_type != "python":
            return self.inner.inputs(node, available)
        from stepline.pipeline.uv_spec import function_signature

        found = function_signature(node.command)
        if found is None or found[1]:  # not a plain def (or **kwargs): it may take anything
            return available
        return [name for name in available if name in found[0]]

    def run(self, invocation: Invocation) -> dict[str, Any]:
        kind = type(self.inner)
        request = {"task": f"{kind.__module__}:{kind.__qualname__}", "node": invocation.node.model_dump(mode="json"),
                   "step": invocation.step, "secrets": dict(invocation.secrets), "timeout": invocation.timeout,
                   "attempt": invocation.attempt, "environment": dict(invocation.environment),
                   "parameters": {k: v for k, v in invocation.parameters.items() if not isinstance(v, Pickled)},
                   "objects": {k: bytes(v) for k, v in invocation.parameters.items() if isinstance(v, Pickled)}}
        outcome = self._spawn(pickle.dumps(request), invocation)
        invocation.metrics.update(outcome.get("metrics") or {})
        invocation.files.update(outcome.get("files") or {})
        if outcome["status"] == "failed":
            raise TaskFailed(outcome["message"])
        if outcome["status"] == "error":
            raise StepLineError(outcome["message"])
        return {**outcome["returns"], **{k: Pickled(v) for k, v in outcome["objects"].items()}}

    def _spawn(self, request: bytes, invocation: Invocation) -> dict[str, Any]:
        import subprocess  # only a step with an environment of its own starts one: not on every run's path

        env = self.environment
        read_end, write_end = os.pipe()
        child_env = {**os.environ, "VIRTUAL_ENV": str(env.folder / "venv"), "PYTHONUNBUFFERED": "1",
                     "PATH": env.bin + os.pathsep + os.environ.get("PATH", "")}
        child_env.pop("PYTHONHOME", None)
        try:
            proc = subprocess.Popen([env.python, "-m", "stepline.envs.child", str(write_end)], env=child_env,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    pass_fds=(write_end,), start_new_session=True)
        except OSError as exc:
            os.close(read_end)
            raise TaskFailed(f"the step's environment ({env.folder}) cannot start: {exc}") from None
        finally:
            os.close(write_end)
        chunks: list[bytes] = []

        def pump_output() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                invocation.output.write(line.decode("utf-8", "replace"))

        def pump_outcome() -> None:
            with os.fdopen(read_end, "rb") as stream:
                chunks.append(stream.read())

        readers = [threading.Thread(target=pump_output, daemon=True),
                   threading.Thread(target=pump_outcome, daemon=True)]
        try:  # from the start of the readers on: an interrupt while they start must still stop the task
            for reader in readers:
                reader.start()
            assert proc.stdin is not None
            try:
                proc.stdin.write(request)
                proc.stdin.close()
            except BrokenPipeError:
                pass  # the child died at start; its output says why
            limit = invocation.timeout + GRACE_SECONDS if invocation.timeout else None
            code = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            _kill(proc)
            raise TaskFailed(f"timed out after {invocation.timeout:g} s (timeout_seconds) and was killed") from None
        except BaseException:
            _kill(proc)  # interrupted: never leave the task running
            raise
        for reader in readers:
            reader.join()
        if not chunks or not chunks[0]:
            raise TaskFailed(f"the step's environment process exited {code} without a result")
        return pickle.loads(chunks[0])


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
