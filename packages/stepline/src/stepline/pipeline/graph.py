"""The graph of a pipeline, and the pure functions that complete and check it."""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel, ConfigDict, SerializeAsAny

from stepline.errors import PipelineDefinitionError, did_you_mean

ILLEGAL_NAME_CHARS = (".", "%")


class Graph(BaseModel):
    """``start_at`` + ``steps``; completed with ``success``/``fail`` nodes when they are left out."""

    model_config = ConfigDict(extra="forbid")
    description: str = ""
    start_at: str
    steps: dict[str, SerializeAsAny[Node]]

    @property
    def success_name(self) -> str:
        return self._terminal_name("success")

    @property
    def fail_name(self) -> str:
        return self._terminal_name("fail")

    def _terminal_name(self, kind: str) -> str:
        """The first step of type ``kind`` (success or fail), found once per ``steps`` mapping:
        traversals and renderers ask at every step, and a scan each time made a 1,000-step pipeline
        quadratic. The cache lives outside the model's fields (equality and dumps ignore it) and is
        tied to the mapping's identity, so a copy with other steps looks again."""
        cached = self.__dict__.get("_first_of_type")
        if cached is None or cached[0] is not self.steps:
            first: dict[str, str] = {}
            for name, node in self.steps.items():
                first.setdefault(node.type, name)
            cached = (self.steps, first)
            self.__dict__["_first_of_type"] = cached
        if kind not in cached[1]:
            raise PipelineDefinitionError(f"the graph has no '{kind}' step",
                                          hint="graphs are completed (graph.complete) before they are used")
        return cached[1][kind]

    def failure_target(self, name: str) -> str:
        return self.steps[name].on_failure or self.fail_name

    def dag_hash(self) -> str:
        """A stable hash of the pipeline's shape and settings (changes when the pipeline changes)."""
        text = json.dumps(self.model_dump(mode="json", exclude_defaults=True), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def join(prefix: str, name: str) -> str:
    """The dotted internal name of ``name`` inside a branch ``prefix``."""
    return f"{prefix}.{name}" if prefix else name


def find_node(graph: Graph, internal_name: str) -> Node | None:
    """The node at a dotted internal name: step, branch key, step, ... ('fork.left.l1')."""
    parts = internal_name.split(".")
    node = graph.steps.get(parts[0])
    for i in range(1, len(parts) - 1, 2):
        if node is None:
            return None
        sub = node.branch_graph(parts[i])
        node = sub.steps.get(parts[i + 1]) if sub else None
    return node if len(parts) % 2 == 1 else None


def loop_indices(graph: Graph, internal_name: str) -> dict[str, str]:
    """The ``index_as`` name and iteration of every loop around the step at ``internal_name``
    (``improve.2.score`` inside loop ``improve`` with ``index_as: round`` gives ``{"round": "2"}``)."""
    found: dict[str, str] = {}
    parts = internal_name.split(".")
    node = graph.steps.get(parts[0])
    for i in range(1, len(parts) - 1, 2):
        if node is None:
            break
        if node.type == "loop":
            found[node.index_as] = parts[i]
        sub = node.branch_graph(parts[i])
        node = sub.steps.get(parts[i + 1]) if sub else None
    return found


def walk(graph: Graph, prefix: str = ""):
    """Every (internal name template, node) of a graph and its branches, depth first."""
    for name, node in graph.steps.items():
        path = join(prefix, name)
        yield path, node
        for key, sub in node.branch_graphs().items():
            yield from walk(sub, join(path, key))


def complete(graph: Graph) -> Graph:
    """Add the ``success`` and ``fail`` nodes when missing; a step with no ``next`` ends in success."""
    from stepline.pipeline.nodes import FailNode, SuccessNode

    steps = dict(graph.steps)
    if not any(n.type == "success" for n in steps.values()):
        steps[_free_name(steps, "success")] = SuccessNode()
    if not any(n.type == "fail" for n in steps.values()):
        steps[_free_name(steps, "fail")] = FailNode()
    graph = graph.model_copy(update={"steps": steps})
    success = graph.success_name
    for node in steps.values():
        if not node.terminal and node.next is None:
            node.next = success
    return graph


def _free_name(steps: dict, wanted: str) -> str:
    name = wanted
    while name in steps:
        name = f"{name}_"
    return name


def check(graph: Graph, *, file: str, prefix: str = "") -> list[str]:
    """Raise the first structural error; return warnings (unreachable steps)."""
    names = list(graph.steps)

    def target_error(step: str, key: str, target: str) -> PipelineDefinitionError:
        return PipelineDefinitionError(f"'{key}' names step '{target}', which does not exist",
                                       file=file, step=join(prefix, step),
                                       hint=did_you_mean(target, names) or f"steps: {', '.join(names)}")

    for name in names:
        bad = [c for c in ILLEGAL_NAME_CHARS if c in name]
        if bad or not name.strip():
            raise PipelineDefinitionError(
                f"illegal step name {name!r}: names may not be empty or contain '.' or '%'",
                file=file, step=join(prefix, name), hint="rename the step")
    if graph.start_at not in graph.steps:
        raise PipelineDefinitionError(
            f"start_at names step '{graph.start_at}', which does not exist", file=file,
            step=prefix or None, hint=did_you_mean(graph.start_at, names) or f"steps: {', '.join(names)}")
    for name, node in graph.steps.items():
        if node.terminal and node.next not in (None, ""):
            raise PipelineDefinitionError(f"a '{node.type}' step ends the pipeline and takes no 'next'",
                                          file=file, step=join(prefix, name), hint="remove 'next'")
        for key in ("next", "on_failure"):
            target = getattr(node, key)
            if target is not None and target not in graph.steps:
                raise target_error(name, key, target)
    cycle = find_cycle(graph)
    if cycle:
        raise PipelineDefinitionError("the steps form a cycle: " + " -> ".join(cycle), file=file,
                                      step=join(prefix, cycle[0]),
                                      hint="use a 'loop' step to repeat work")
    reachable = reachable_from(graph, graph.start_at)
    return [f"{file}: step '{join(prefix, n)}' can never be reached from '{graph.start_at}'"
            for n, node in graph.steps.items() if n not in reachable and not node.terminal]


def edges(graph: Graph, name: str) -> list[str]:
    node = graph.steps[name]
    return [t for t in (node.next, node.on_failure) if t]


def run_targets(graph: Graph, name: str) -> list[str]:
    """Where step ``name`` can go when it runs: ``next``, and on failure its ``on_failure`` or the
    graph's fail node; nowhere from a terminal step."""
    node = graph.steps[name]
    return [] if node.terminal else [node.next, graph.failure_target(name)]


def reachable_from(graph: Graph, start: str, *, at_run_time: bool = False) -> set[str]:
    """The steps reachable from ``start`` through ``next`` and ``on_failure``; ``at_run_time``: also
    through the fail node a failing step without ``on_failure`` goes to (see :func:`run_targets`)."""
    targets = run_targets if at_run_time else edges
    seen, stack = set(), [start]
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(targets(graph, name))
    return seen


def find_cycle(graph: Graph) -> list[str] | None:
    """A list of step names forming a cycle (first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for root in graph.steps:
        if state.get(root):
            continue
        stack: list[tuple[str, list[str]]] = [(root, edges(graph, root))]
        path, state[root] = [root], 1
        while stack:
            name, pending = stack[-1]
            if not pending:
                stack.pop()
                path.pop()
                state[name] = 2
                continue
            nxt = pending.pop()
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, edges(graph, nxt)))
    return None


from stepline.pipeline.nodes import Node  # noqa: E402  (nodes and graphs refer to each other)

Graph.model_rebuild()
