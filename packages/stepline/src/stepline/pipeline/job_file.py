"""Jobs as the pipeline layer sees them: a ``job:`` file parsed into one task node, and the one-step
graph a job runs as (the SDK's jobs, :mod:`stepline.sdk.jobs`, build the same graph)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from stepline.errors import PipelineDefinitionError

if TYPE_CHECKING:
    from stepline.pipeline.graph import Graph
    from stepline.pipeline.nodes import Node


#: the ``type:`` of runnable's job files, which hold the task's keys at the top level
RUNNABLE_JOB_TYPES = ("python", "shell", "notebook")


def is_job_file(raw: object) -> bool:
    """A parsed file is a job: a ``job:`` file, or runnable's shape (``type: python|shell|notebook``
    and the task's keys at the top level, no ``dag:``)."""
    if not isinstance(raw, dict) or "dag" in raw or "pipeline" in raw:
        return False
    return "job" in raw or raw.get("type") in RUNNABLE_JOB_TYPES


def from_runnable_job(raw: dict) -> dict:
    """runnable's flat job file as a ``job:`` file: ``type`` is the command type, and a ``catalog``
    list names what to put (a job gets nothing from the catalog)."""
    body = {k: v for k, v in raw.items() if k != "type"}
    body["command_type"] = raw["type"]
    if isinstance(body.get("catalog"), list):
        body["catalog"] = {"put": body["catalog"]}
    return {"job": body}


def parse_job(raw: dict, *, file: str) -> tuple[str, Node]:
    """The name and the task node of a parsed job file (``job:``, or runnable's flat shape)."""
    from stepline.pipeline.anchor_holders import drop_anchor_holders
    from stepline.pipeline.graph import ILLEGAL_NAME_CHARS
    from stepline.pipeline.loader import parse_node

    if "job" not in raw and raw.get("type") in RUNNABLE_JOB_TYPES:
        raw = from_runnable_job(raw)
    raw = drop_anchor_holders(raw, file=file, known=("job",))
    body = raw.get("job")
    extra = [k for k in raw if k != "job"]
    if extra:
        raise PipelineDefinitionError(f"unknown top-level key '{extra[0]}' in a job file", file=file,
                                      hint="a job file has only 'job:'")
    if not isinstance(body, dict):
        raise PipelineDefinitionError("'job:' must be a mapping of the task's keys", file=file)
    body = dict(body)
    name = str(body.pop("name", None) or "job")
    if any(c in name for c in ILLEGAL_NAME_CHARS):
        raise PipelineDefinitionError(f"illegal job name {name!r}: names may not contain '.' or '%'", file=file,
                                      hint="rename the job")
    body.setdefault("type", "task")
    if body["type"] != "task":
        raise PipelineDefinitionError("a job is one task: its type is 'task'", file=file, step=name)
    for key in ("next", "on_failure"):
        if key in body:
            raise PipelineDefinitionError(f"a job has no '{key}'", file=file, step=name, hint=f"remove '{key}'")
    node = parse_node(body, name=name, path=name, context={"file": file, "base_dir": Path(file).resolve().parent})
    return name, node


def job_graph(name: str, node: Node) -> Graph:
    """The graph a job runs as: its one step, which ends in ``success`` (or in ``fail`` when it fails)."""
    from stepline.pipeline.graph import Graph, complete

    return complete(Graph(start_at=name, steps={name: node.model_copy(deep=True)}))


def check_job(graph: Graph, reference: str) -> None:
    """A job is one task step (``execute-job`` refuses a whole pipeline)."""
    leaves = [name for name, node in graph.steps.items() if not node.terminal]
    if len(leaves) != 1 or graph.steps[leaves[0]].type != "task":
        raise PipelineDefinitionError(f"is a pipeline of {len(leaves)} steps, not a job", file=reference,
                                      hint="run it with `stepline execute`, or point at a PythonJob/ShellJob/NotebookJob")
