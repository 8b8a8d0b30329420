"""Build a :class:`Graph` from the runnable/magnus YAML format, with one-line errors.

Composite node types parse their branches by calling :func:`parse_graph` from their validators,
with the file and the dotted path in pydantic's validation context.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from stepline.errors import PipelineDefinitionError, StepLineError, did_you_mean, quote_hint
from stepline.pipeline.anchor_holders import drop_anchor_holders
from stepline.pipeline.graph import Graph, check, complete, join
from stepline.pipeline.yaml_io import load_yaml_file

GRAPH_KEYS = ("description", "start_at", "steps")
#: keys of a magnus graph that runnable no longer reads: accepted, with a warning that they do nothing
LEGACY_GRAPH_KEYS = {"max_time": "magnus' limit on a run's time, which runnable no longer reads: it is not "
                                 "enforced (set timeout_seconds on the steps that need a limit)"}
MAX_NESTING = 16  # composite steps inside composite steps (dag_definition includes count too)
TOP_KEYS = ("dag", "pipeline")


def load_pipeline(path: str | Path, raw: Any = None) -> Graph:
    """Load, complete and check a pipeline file; ``raw``: its document, when the caller has already
    read it (a large pipeline's YAML costs more to parse than the graph to build)."""
    file = str(path)
    if raw is None:
        raw = load_yaml_file(file)
    if not isinstance(raw, dict):
        raise PipelineDefinitionError("a pipeline file must be a mapping with a top-level 'dag:'", file=file)
    written = list(raw)
    raw = drop_anchor_holders(raw, file=file, known=TOP_KEYS)
    top = [k for k in raw if k in TOP_KEYS]
    unknown = [k for k in raw if k not in TOP_KEYS]
    if unknown:
        raise PipelineDefinitionError(f"unknown top-level key '{unknown[0]}'", file=file,
                                      hint=did_you_mean(str(unknown[0]), (*TOP_KEYS, "job"))
                                      or "the pipeline goes under 'dag:'")
    if len(top) != 1:
        # an anchor holder named like 'dga:' is accepted, but the missing dag is probably it
        near = next((hint for k in written if k not in TOP_KEYS and (hint := did_you_mean(str(k), TOP_KEYS))), None)
        raise PipelineDefinitionError("expected exactly one top-level 'dag:' (or 'pipeline:')", file=file,
                                      hint=near)
    return parse_graph(raw[top[0]], file=file, prefix="", base_dir=Path(file).resolve().parent,
                       includes=(str(Path(file).resolve()),))


def parse_graph(raw: Any, *, file: str, prefix: str, base_dir: Path | None = None,
                includes: tuple[str, ...] = ()) -> Graph:
    """A completed, checked graph; ``prefix`` is the dotted path of the branch; ``includes`` the
    resolved files of the ``dag_definition`` chain that led here (to name a cycle of includes).

    Problems that do not stop a run (unreachable steps) are issued with :func:`warnings.warn`.
    """
    where = f"branch '{prefix}'" if prefix else "dag"
    if prefix and (prefix.count(".") + 1) // 2 > MAX_NESTING:  # each level adds 'step.branch'
        raise PipelineDefinitionError(f"composite steps nested more than {MAX_NESTING} levels deep", file=file,
                                      step=prefix, hint="flatten the pipeline, or move branches into steps")
    if not isinstance(raw, dict):
        raise PipelineDefinitionError(f"{where} must be a mapping with 'start_at' and 'steps'", file=file)
    for key in raw:
        if key in LEGACY_GRAPH_KEYS:
            warnings.warn(f"{file}: {where}: '{key}' is {LEGACY_GRAPH_KEYS[key]}", UserWarning, stacklevel=2)
        elif key not in GRAPH_KEYS:
            raise PipelineDefinitionError(f"{where}: unknown key '{key}'", file=file,
                                          hint=did_you_mean(str(key), GRAPH_KEYS) or "allowed: " + ", ".join(GRAPH_KEYS))
    for key in ("start_at", "steps"):
        if key not in raw:
            raise PipelineDefinitionError(f"{where}: missing '{key}'", file=file)
    if not isinstance(raw["steps"], dict) or not raw["steps"]:
        raise PipelineDefinitionError(f"{where}: 'steps' must be a non-empty mapping of step names", file=file)
    context = {"file": file, "base_dir": base_dir or Path.cwd(), "includes": includes}
    steps = {str(name): parse_node(body, name=str(name), path=join(prefix, str(name)), context=context)
             for name, body in raw["steps"].items()}
    graph = complete(Graph(description=str(raw.get("description") or ""), start_at=str(raw["start_at"]),
                           steps=steps))
    for message in check(graph, file=file, prefix=prefix):
        warnings.warn(message, UserWarning, stacklevel=2)
    return graph


def parse_node(raw: Any, *, name: str, path: str, context: dict[str, Any]):
    """Validate one step against the model its ``type`` names."""
    from stepline.plugins.manager import get_registry

    file = context["file"]
    if not isinstance(raw, dict):
        raise PipelineDefinitionError("a step must be a mapping of keys", file=file, step=path)
    node_type = raw.get("type")
    registry = get_registry()
    entry = registry.entries.get(("node", node_type)) if isinstance(node_type, str) else None
    if entry is None:
        known = registry.names("node")
        if node_type is None:
            raise PipelineDefinitionError("missing key 'type'", file=file, step=path,
                                          hint=f"one of: {', '.join(known)}")
        raise PipelineDefinitionError(f"unknown step type '{node_type}'", file=file, step=path,
                                      hint=did_you_mean(str(node_type), known) or f"one of: {', '.join(known)}")
    cls = entry.cls
    try:
        return cls.model_validate(raw, context={**context, "path": path})
    except ValidationError as exc:
        raise node_error(exc, cls, file=file, path=path) from None
    except StepLineError as exc:
        raise exc.with_context(file=file, step=path) from None


def node_error(exc: ValidationError, cls: type, *, file: str, path: str) -> PipelineDefinitionError:
    """Turn pydantic's first error into one line naming the offending key."""
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    key = ".".join(loc) or "?"
    if err["type"] == "extra_forbidden":
        fields = list(cls.model_fields)
        hint = did_you_mean(loc[-1], fields) if len(loc) == 1 else None
        return PipelineDefinitionError(f"unknown key '{key}'", file=file, step=path,
                                       hint=hint or (f"allowed: {', '.join(f for f in fields if f != 'type')}"
                                                     if len(loc) == 1 else None))
    if err["type"] == "missing":
        return PipelineDefinitionError(f"missing key '{key}'", file=file, step=path)
    message = err["msg"].removeprefix("Value error, ")
    return PipelineDefinitionError(f"key '{key}': {message}", file=file, step=path, hint=quote_hint(err))

