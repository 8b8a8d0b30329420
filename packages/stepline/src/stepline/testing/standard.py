"""The standard pipelines the executor and renderer kits run: together they use every node type, a
failing step routed by ``on_failure``, retries, map and parallel, parameters of each kind, catalog
get and put, and secrets.

Each pipeline is a folder of files (``pipeline.yaml``, its Python tasks ``kit_steps.py``, a
``params.yaml``, a ``.env`` with the secret, a ``config.yaml`` for the services): write one with
:func:`write_pipeline` and run it with ``stepline execute pipeline.yaml -c config.yaml -p params.yaml``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

#: The value of the secret the ``data`` pipeline reads; a kit checks it never appears in a run log
#: or a rendered workflow.
SECRET_VALUE = "kit-secret-7Hq2+/Zx=9"

_STEPS = '''\
"""Tasks of the standard pipelines (written by stepline.testing.standard)."""

import hashlib
import os
from pathlib import Path

import stepline


class Box:
    """Not JSON: returned with kind: object, so it travels pickled through the catalog."""

    def __init__(self, items):
        self.items = list(items)


def make(count: int, ratio: float, label: str, flag: bool, config: dict):
    assert (count, ratio, label, flag, config) == (2, 0.5, "x", True, {"depth": 3}), "initial parameters"
    stepline.track("progress", 0.5, step=1)
    return list(range(1, count + 1)), ratio * 2, Box(range(count))


def double(items: list, box: Box) -> list:
    return [i * 2 for i in items] + box.items


def square(item: int) -> int:
    return item * item


def bump(i: int) -> bool:
    return i >= 1


def die() -> None:
    os.kill(os.getpid(), 9)  # as the OOM killer or a scheduler would: no chance to record anything
    os._exit(137)  # PID 1 of a container ignores even that: end without recording all the same


def read_data(ratio: float) -> tuple:
    text = Path("data/numbers.csv").read_text()
    secret = stepline.get_secret("KIT_SECRET")
    total = sum(int(line.split(",")[1]) for line in text.splitlines()[1:])
    return total, hashlib.sha256(secret.encode()).hexdigest()[:12], os.environ["KIT_SECRET"] == secret
'''

_PIPELINES: dict[str, dict[str, str]] = {
    # every node type: task (python and shell), stub, parallel, map, conditional, loop, dag, success;
    # parameters json, metric and object, each initial parameter type
    "shapes": {
        "pipeline.yaml": """\
            dag:
              start_at: make
              steps:
                make:
                  type: task
                  command: kit_steps.make
                  returns:
                    - items
                    - name: ratio2
                      kind: metric
                    - name: box
                      kind: object
                  next: note
                note:
                  type: stub
                  next: fan
                fan:
                  type: parallel
                  next: each
                  branches:
                    left:
                      start_at: shout
                      steps:
                        shout:
                          type: task
                          command_type: shell
                          command: echo "left $label" && export shouted="$label!"
                          returns: [shouted]
                    right:
                      start_at: double
                      steps:
                        double:
                          type: task
                          command: kit_steps.double
                          returns: [doubled]
                each:
                  type: map
                  iterate_on: items
                  iterate_as: item
                  reducer: "lambda *values: sum(values)"
                  next: route
                  branch:
                    start_at: square
                    steps:
                      square:
                        type: task
                        command: kit_steps.square
                        returns: [squared]
                route:
                  type: conditional
                  parameter: label
                  next: again
                  branches:
                    x:
                      start_at: on x
                      steps:
                        on x:
                          type: task
                          command_type: shell
                          command: export routed=x
                          returns: [routed]
                  default:
                    start_at: otherwise
                    steps:
                      otherwise:
                        type: stub
                again:
                  type: loop
                  max_iterations: 3
                  break_on: done
                  index_as: i
                  next: inner
                  branch:
                    start_at: bump
                    steps:
                      bump:
                        type: task
                        command: kit_steps.bump
                        returns: [done]
                inner:
                  type: dag
                  dag_definition: inner.yaml
                  next: done
                done:
                  type: success
            """,
        "inner.yaml": """\
            dag:
              start_at: inside
              steps:
                inside:
                  type: task
                  command_type: shell
                  command: export depth_seen=$config
                  returns: [depth_seen]
            """,
    },
    # a retried step, a failing step routed by on_failure, and the fail node
    "failure": {
        "pipeline.yaml": """\
            dag:
              start_at: flaky
              steps:
                flaky:
                  type: task
                  command_type: shell
                  command: |
                    n=$(( $(cat flaky-count 2>/dev/null || echo 0) + 1 ))
                    echo "$n" > flaky-count
                    if [ "$n" -lt 2 ]; then echo "attempt $n fails"; exit 1; fi
                    export attempts=$n
                  returns: [attempts]
                  max_attempts: 2
                  next: breaks
                breaks:
                  type: task
                  command_type: shell
                  command: echo "about to fail" && exit 3
                  next: never
                  on_failure: recover
                never:
                  type: task
                  command_type: shell
                  command: echo "never runs"
                recover:
                  type: task
                  command_type: shell
                  command: echo "recovering"
                  next: failed
                failed:
                  type: fail
            """,
    },
    # catalog put and get, and a secret read by a python task
    "data": {
        "pipeline.yaml": """\
            dag:
              start_at: write
              steps:
                write:
                  type: task
                  command_type: shell
                  command: mkdir -p data && printf 'id,value\\n1,10\\n2,32\\n' > data/numbers.csv
                  catalog:
                    put: [data/numbers.csv]
                  next: forget
                forget:
                  type: task
                  command_type: shell
                  command: rm -r data
                  next: read
                read:
                  type: task
                  command: kit_steps.read_data
                  secrets: [KIT_SECRET]
                  catalog:
                    get: [data/*.csv]
                  returns: [total, secret_digest, secret_in_env]
            """,
    },
}

#: A step whose process is killed (SIGKILL), routed by on_failure: for executors that run steps in
#: another process, which must record the step failed with a reason and go on.
KILLED = """\
dag:
  start_at: killed
  steps:
    killed:
      type: task
      command: kit_steps.die
      on_failure: after
    after:
      type: task
      command_type: shell
      command: echo "the run went on"
      next: failed
    failed:
      type: fail
"""

_TASK = "{type: task, command_type: shell, command: echo hi, returns: [] }"

#: One small pipeline per node type: what a renderer must render, or refuse with NotSupportedError.
NODE_PIPELINES: dict[str, str] = {
    "task": f"dag: {{start_at: a, steps: {{a: {_TASK}}}}}\n",
    "stub": "dag: {start_at: a, steps: {a: {type: stub}}}\n",
    "success": "dag: {start_at: a, steps: {a: {type: stub, next: done}, done: {type: success}}}\n",
    "fail": "dag: {start_at: a, steps: {a: {type: stub, next: failed}, failed: {type: fail}}}\n",
    "parallel": f"dag: {{start_at: p, steps: {{p: {{type: parallel, branches: {{x: {{start_at: a, steps: {{a: {_TASK}}}}}, "
                f"y: {{start_at: b, steps: {{b: {_TASK}}}}}}}}}}}}}\n",
    "map": f"dag: {{start_at: m, steps: {{m: {{type: map, iterate_on: items, iterate_as: item, "
           f"branch: {{start_at: a, steps: {{a: {_TASK}}}}}}}}}}}\n",
    "conditional": f"dag: {{start_at: c, steps: {{c: {{type: conditional, parameter: label, "
                   f"branches: {{x: {{start_at: a, steps: {{a: {_TASK}}}}}}}}}}}}}\n",
    "loop": "dag: {start_at: l, steps: {l: {type: loop, max_iterations: 2, break_on: done, index_as: i, "
            "branch: {start_at: a, steps: {a: {type: task, command_type: shell, command: export done=true, "
            "returns: [done]}}}}}}\n",
    "dag": "dag: {start_at: d, steps: {d: {type: dag, dag_definition: inner.yaml}}}\n",
}


_COMMON = {
    "kit_steps.py": _STEPS,
    "params.yaml": "count: 2\nratio: 0.5\nlabel: x\nflag: true\nconfig: {depth: 3}\n",
    ".env": f"KIT_SECRET={SECRET_VALUE}\n",
}

#: The names of the standard pipelines.
PIPELINES = tuple(_PIPELINES)

#: The services every standard pipeline runs with, besides the executor (YAML sections).
SERVICES = {"secrets": {"type": "dotenv", "config": {"location": ".env"}}}


def write_node_pipeline(node_type: str, folder: Path) -> Path:
    """Write the one-node pipeline of ``node_type`` (a key of :data:`NODE_PIPELINES`) into ``folder``,
    with the standard parameters and the sub-pipeline a ``dag`` step includes; return ``folder``."""
    write_pipeline("shapes", folder)
    (folder / "inner.yaml").write_text(f"dag: {{start_at: a, steps: {{a: {_TASK}}}}}\n")
    (folder / "pipeline.yaml").write_text(NODE_PIPELINES[node_type])
    (folder / "params.yaml").write_text((folder / "params.yaml").read_text() + "items: [1, 2]\n")
    return folder


def write_pipeline(name: str, folder: Path) -> Path:
    """Write the standard pipeline ``name`` (one of :data:`PIPELINES`) into ``folder``; return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for file, text in {**_COMMON, **_PIPELINES[name]}.items():
        (folder / file).write_text(textwrap.dedent(text) if file.endswith(".yaml") else text)
    return folder
