"""What a step's environment interpreter runs: one attempt of the task, with Stepline's task runtime.

``python -m stepline.envs.child FD`` reads the attempt (a pickle of builtins) from stdin, runs the
task type on it exactly as an in-process attempt runs (parameters bound and cast, secrets, timeout,
``stepline.track``), and writes the outcome (again builtins only) to file descriptor FD. Objects are
unpickled and pickled here, in the environment that can import their types; the task's output goes
to stdout, which the step context reads, masks and records.

``python -m stepline.envs.child --describe`` prints the interpreter and the environment's own packages.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
from typing import Any


def describe() -> dict[str, Any]:
    import platform
    import sysconfig
    from importlib.metadata import distributions

    from stepline.tasks import python, shell  # proves the task runtime imports here

    del python, shell

    own = sysconfig.get_paths()["purelib"]
    packages = {d.metadata["Name"]: d.version for d in distributions(path=[own]) if d.metadata["Name"]}
    return {"python": platform.python_version(), "executable": sys.executable,
            "packages": dict(sorted(packages.items(), key=lambda kv: kv[0].lower()))}


def _plain(value: Any) -> Any:
    """A metric value as a builtin (numpy scalars and arrays have ``item``/``tolist``)."""
    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else
                                 v.tolist() if hasattr(v, "tolist") else str(v)))


def node_view(fields: dict[str, Any]) -> Any:
    """The task node's fields as attributes (``returns`` items too): what a task type reads of its
    node, without building the pipeline models (their import is most of a child's start-up time)."""
    from types import SimpleNamespace

    returns = [SimpleNamespace(name=r["name"], kind=r.get("kind", "json")) for r in fields.get("returns", [])]
    return SimpleNamespace(**{**fields, "returns": returns})


def run_attempt(request: dict[str, Any]) -> dict[str, Any]:
    import importlib

    from stepline.errors import StepLineError
    from stepline.tasks.base import Invocation, TaskFailed, as_json_value
    from stepline.tasks.output import OutputSink

    module, _, name = request["task"].partition(":")
    task_type = getattr(importlib.import_module(module), name)()
    node = node_view(request["node"])
    values = dict(request["parameters"])
    values.update({k: pickle.loads(v) for k, v in request["objects"].items()})
    sink = OutputSink(echo=True)  # to stdout: the step context masks and records it
    invocation = Invocation(node=node, step=request["step"], parameters=values, secrets=request["secrets"],
                            output=sink, timeout=request["timeout"], attempt=request["attempt"],
                            environment=request.get("environment", {}))
    outcome: dict[str, Any] = {"status": "ok", "returns": {}, "objects": {}}
    try:
        returned = task_type.run(invocation)
        kinds = {r.name: r.kind for r in node.returns}
        for key, value in returned.items():
            kind = kinds.get(key, "json")
            if kind == "object":
                outcome["objects"][key] = pickle.dumps(value)
            elif kind == "metric":
                outcome["returns"][key] = _plain(value)
            else:
                outcome["returns"][key] = as_json_value(key, value)
    except TaskFailed as exc:
        outcome = {"status": "failed", "message": str(exc)}
    except StepLineError as exc:
        outcome = {"status": "error", "message": str(exc)}
    except Exception as exc:  # noqa: BLE001 - e.g. a returned object that cannot be pickled
        outcome = {"status": "failed", "message": f"{type(exc).__name__}: {exc}"}
    finally:
        sink.flush()
    outcome["metrics"] = _plain(invocation.metrics)
    outcome["files"] = dict(invocation.files)
    return outcome


def main(argv: list[str]) -> int:
    if argv == ["--describe"]:
        print(json.dumps(describe()))
        return 0
    fd = int(argv[0])
    request = pickle.loads(sys.stdin.buffer.read())
    outcome = run_attempt(request)
    sys.stdout.flush()
    with os.fdopen(fd, "wb") as handle:
        handle.write(pickle.dumps(outcome))
    return 0 if outcome["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
