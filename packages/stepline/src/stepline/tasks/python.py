"""Python tasks: ``command`` is a dotted path to a function, called with parameters by name."""

from __future__ import annotations

import contextlib
import inspect
import os
import pickle
import signal
import sys
import threading
import time
import typing
from functools import lru_cache
from typing import Any, ClassVar

from pydantic import ValidationError

from stepline.active_step import active_step
from stepline.errors import ParameterError
from stepline.pipeline.functions import import_callable, split_reference  # noqa: F401 - split_reference: used by others
from stepline.tasks.base import Invocation, TaskFailed, TaskType, zip_returns
from stepline.tasks.output import capture_fds


@lru_cache(maxsize=None)
def _signature(func: Any) -> tuple[list[tuple[str, Any, bool]], bool, str | None]:
    """[(name, annotation or None, required)], accepts **kwargs, the argument annotated
    ``argparse.Namespace`` (it receives every parameter no other argument names, as in runnable)."""
    namespace_types: tuple = ("argparse.Namespace",)
    if "argparse" in sys.modules:  # else no annotation can be its class: not imported just to compare
        namespace_types += (sys.modules["argparse"].Namespace,)
    try:
        hints = typing.get_type_hints(func)
    except Exception:
        hints = {}
    params, var_kw, namespace = [], False, None
    for p in inspect.signature(func).parameters.values():
        if p.kind is p.VAR_KEYWORD:
            var_kw = True
        elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            if hints.get(p.name, p.annotation) in namespace_types and namespace is None:
                namespace = p.name
            else:
                params.append((p.name, hints.get(p.name), p.default is p.empty))
    return params, var_kw, namespace


@lru_cache(maxsize=None)
def _adapter(annotation: Any) -> Any:
    from pydantic import ConfigDict, PydanticSchemaGenerationError, TypeAdapter

    try:
        return TypeAdapter(annotation)
    except PydanticSchemaGenerationError:  # a plain class (e.g. an unpickled object): isinstance check
        return TypeAdapter(annotation, config=ConfigDict(arbitrary_types_allowed=True))


def bind(func: Any, command: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``func`` from the parameters, cast by its annotations."""
    params, var_kw, namespace = _signature(func)
    kwargs: dict[str, Any] = {}
    for name, annotation, required in params:
        if name not in parameters:
            if required:
                raise ParameterError(f"function '{command}' needs parameter '{name}', which is not set",
                                     hint="set it in the parameters file or return it from an earlier step")
            continue
        value = parameters[name]
        if annotation is not None and annotation is not Any:
            try:
                value = _adapter(annotation).validate_python(value)
            except ValidationError as exc:
                first = exc.errors()[0]["msg"]
                raise ParameterError(f"parameter '{name}' = {value!r:.60} cannot be cast to "
                                     f"{getattr(annotation, '__name__', annotation)}: {first}",
                                     hint="fix the value or the annotation") from None
        kwargs[name] = value
    unbound = {k: v for k, v in parameters.items() if k not in kwargs}
    if var_kw:
        kwargs.update(unbound)
    elif namespace is not None:
        import argparse

        kwargs[namespace] = argparse.Namespace(**unbound)
    return kwargs


def _task_environment(invocation: Invocation):
    """Secrets and loop indices as env vars and output captured (file descriptors included),
    restored afterwards."""
    variables = {**invocation.environment, **invocation.secrets}
    if not variables:  # most steps: the capture alone
        return capture_fds(invocation.output)
    return _with_variables(variables, invocation)


@contextlib.contextmanager
def _with_variables(variables: dict[str, str], invocation: Invocation):
    from stepline.process_env import variables_set

    with variables_set(variables), capture_fds(invocation.output):
        yield


class PythonTaskType(TaskType):
    name: ClassVar[str] = "python"

    def check(self, node) -> None:
        import_callable(node.command)

    def inputs(self, node, available: list[str]) -> list[str]:
        params, var_kw, namespace = _signature(import_callable(node.command))
        if var_kw or namespace is not None:
            return available
        wanted = {name for name, _, _ in params}
        return [name for name in available if name in wanted]

    def run(self, invocation: Invocation) -> dict[str, Any]:
        func = import_callable(invocation.node.command)
        kwargs = bind(func, invocation.node.command, invocation.parameters)
        with active_step(invocation):
            if invocation.timeout:
                result = _run_forked(func, kwargs, invocation)
            else:
                with _task_environment(invocation):
                    try:
                        result = func(**kwargs)
                    except Exception as exc:
                        import traceback  # only a failing task needs it: not on every run's start-up

                        traceback.print_exc(file=sys.stdout)
                        raise TaskFailed(f"{type(exc).__name__}: {exc}") from None
                    except SystemExit as exc:  # the task's own sys.exit(), not a stop of Stepline
                        if exc.code in (None, 0):
                            result = None
                        else:
                            raise TaskFailed(f"the function called sys.exit({exc.code!r})") from None
        return zip_returns(invocation.node, result)


def _run_forked(func: Any, kwargs: dict[str, Any], invocation: Invocation) -> Any:
    """Run in a child process so a timeout can kill it; output and result come back by pipes."""
    out_r, out_w = os.pipe()
    res_r, res_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(out_r)
        os.close(res_r)
        os.dup2(out_w, 1)
        os.dup2(out_w, 2)
        sys.stdout = sys.stderr = open(1, "w", buffering=1, closefd=False)
        code = 0
        try:
            os.environ.update({**invocation.environment, **invocation.secrets})
            payload = ("ok", func(**kwargs), invocation.metrics)
        except SystemExit as exc:
            payload = ("ok", None, invocation.metrics) if exc.code in (None, 0) else \
                ("error", f"the function called sys.exit({exc.code!r})", invocation.metrics)
            code = 0 if payload[0] == "ok" else 1
        except BaseException as exc:  # noqa: BLE001 - report anything to the parent
            import traceback

            traceback.print_exc()
            payload, code = ("error", f"{type(exc).__name__}: {exc}", invocation.metrics), 1
        try:
            data = pickle.dumps(payload)
        except Exception as exc:
            data, code = pickle.dumps(("error", f"the return value cannot be pickled: {exc}", {})), 1
        sys.stdout.flush()
        with os.fdopen(res_w, "wb") as handle:
            handle.write(data)
        os._exit(code)
    os.close(out_w)
    os.close(res_w)
    chunks: list[bytes] = []

    def pump_output() -> None:
        with os.fdopen(out_r, "rb") as stream:
            for line in stream:
                invocation.output.write(line.decode("utf-8", "replace"))

    def pump_result() -> None:
        with os.fdopen(res_r, "rb") as stream:
            chunks.append(stream.read())

    readers = [threading.Thread(target=pump_output, daemon=True), threading.Thread(target=pump_result, daemon=True)]
    deadline = time.monotonic() + invocation.timeout
    try:  # from the start of the readers on: an interrupt while they start must still stop the task
        for reader in readers:
            reader.start()
        while True:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                _kill(pid)
                for reader in readers:
                    reader.join(timeout=1)
                raise TaskFailed(f"timed out after {invocation.timeout:g} s (timeout_seconds) and was killed")
            time.sleep(0.005)
    except BaseException:
        _kill(pid)  # interrupted: never leave the task running
        raise
    for reader in readers:
        reader.join()
    if not chunks or not chunks[0]:
        raise TaskFailed("the task process died without a result")
    status, value, metrics = pickle.loads(chunks[0])
    invocation.metrics.update(metrics)
    if status == "error":
        raise TaskFailed(value)
    return value


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
