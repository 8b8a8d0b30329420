"""Render a pipeline's shape (branches included) as Mermaid, Graphviz dot or indented text.

Pure functions of a :class:`Graph` and, optionally, the statuses of a run's steps (:func:`run_statuses`).
A map's or loop's branch is drawn once, as the template every iteration runs (key ``*``); with a
run, its steps show how many iterations succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from stepline.errors import StepLineError

if TYPE_CHECKING:
    from stepline.pipeline.graph import Graph
    from stepline.pipeline.nodes import Node

FORMATS = ("text", "mermaid", "dot")
COLOURS = {"SUCCESS": ("#d4edda", "#28a745"), "FAIL": ("#f8d7da", "#dc3545"),
           "PROCESSING": ("#fff3cd", "#ffc107"), "CREATED": ("#e2e3e5", "#6c757d"),
           "NOT RUN": ("#ffffff", "#adb5bd")}


@dataclass(frozen=True)
class StepState:
    status: str
    detail: str = ""  # e.g. "3/4 succeeded" for a step inside a map


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _matches(template: str, internal_name: str) -> bool:
    t, n = template.split("."), internal_name.split(".")
    return len(t) == len(n) and all(a == "*" or a == b for a, b in zip(t, n))


def run_statuses(graph: Graph, flat: dict[str, str]) -> dict[str, StepState]:
    """Each step template of ``graph`` (as :func:`walk` names them) -> its state in a run, given the
    status of each of the run's steps by internal name (:func:`stepline.runlog.flatten.statuses`)."""
    from stepline.pipeline.graph import walk

    found: dict[str, StepState] = {}
    for template, _ in walk(graph):
        if "*" not in template.split("."):
            if template in flat:
                found[template] = StepState(flat[template])
            continue
        seen = [status for name, status in flat.items() if _matches(template, name)]
        if not seen:
            continue
        ok = sum(1 for s in seen if s == "SUCCESS")
        status = "FAIL" if "FAIL" in seen else "SUCCESS" if ok == len(seen) else "PROCESSING"
        found[template] = StepState(status, f"{ok}/{len(seen)} succeeded")
    return found


def _describe(node: Node) -> str:
    if node.type == "task":
        return f"task: {getattr(node, 'command_type', '')}"
    if node.type == "map":
        return f"map over {node.iterate_on} as {node.iterate_as}"
    return node.type


def render(graph: Graph, fmt: str = "text", statuses: dict[str, StepState] | None = None, title: str = "") -> str:
    if fmt not in FORMATS:
        raise StepLineError(f"unknown graph format '{fmt}'", hint=f"use one of {', '.join(FORMATS)}")
    return {"text": _text, "mermaid": _mermaid, "dot": _dot}[fmt](graph, statuses, title)


# ---- text -----------------------------------------------------------------------------------------
def _text(graph: Graph, statuses, title: str) -> str:
    lines = [title] if title else []
    _text_graph(graph, "", "", statuses, lines)
    return "\n".join(lines)


def _text_graph(graph: Graph, prefix: str, indent: str, statuses, lines: list[str]) -> None:
    width = max(len(n) for n in graph.steps)
    for name, node in graph.steps.items():
        path = _join(prefix, name)
        start = "> " if name == graph.start_at else "  "
        line = f"{indent}{start}{name:<{width}}  {_describe(node)}"
        if node.next and not node.terminal:
            line += f"  -> {node.next}"
        if node.on_failure:
            line += f"  (on failure -> {node.on_failure})"
        if statuses is not None and not node.terminal:
            state = statuses.get(path)
            line += f"  [{state.status}{', ' + state.detail if state and state.detail else ''}]" if state \
                else "  [NOT RUN]"
        lines.append(line)
        for key, sub in node.branch_graphs().items():
            lines.append(f"{indent}    branch {key}:")
            _text_graph(sub, _join(path, key), indent + "      ", statuses, lines)


# ---- mermaid --------------------------------------------------------------------------------------
class _Ids:
    def __init__(self) -> None:
        self.ids: dict[str, str] = {}

    def __call__(self, path: str) -> str:
        return self.ids.setdefault(path, f"n{len(self.ids)}")


def _label(text: str, quote: str) -> str:
    if quote == "mermaid":
        return text.replace('"', "#quot;")
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _node_label(name: str, node: Node, state: StepState | None) -> str:
    label = f"{name}\n{_describe(node)}" if not node.terminal else name
    if state is not None:
        label += f"\n{state.status}" + (f" ({state.detail})" if state.detail else "")
    return label


def _mermaid(graph: Graph, statuses, title: str) -> str:
    ids, lines, classes = _Ids(), ["flowchart TD"], []
    _mermaid_graph(graph, "", ids, lines, classes, statuses, "  ")
    if statuses is not None:
        for status, (fill, stroke) in COLOURS.items():
            lines.append(f"  classDef {status.replace(' ', '_')} fill:{fill},stroke:{stroke}")
        lines += [f"  class {node_id} {status.replace(' ', '_')}" for node_id, status in classes]
    return "\n".join(lines)


def _mermaid_graph(graph: Graph, prefix: str, ids: _Ids, lines: list[str], classes: list, statuses, pad: str) -> None:
    for name, node in graph.steps.items():
        path = _join(prefix, name)
        state = statuses.get(path) if statuses is not None else None
        text = _label(_node_label(name, node, state), "mermaid").replace("\n", "<br/>")
        shape = f'(["{text}"])' if node.terminal else f'[["{text}"]]' if node.composite else f'["{text}"]'
        lines.append(f"{pad}{ids(path)}{shape}")
        if statuses is not None and not node.terminal:
            classes.append((ids(path), state.status if state else "NOT RUN"))
        for key, sub in node.branch_graphs().items():
            branch = _join(path, key)
            lines.append(f'{pad}subgraph {ids(branch)}["{_label(f"{name} / {key}", "mermaid")}"]')
            _mermaid_graph(sub, branch, ids, lines, classes, statuses, pad + "  ")
            lines.append(f"{pad}end")
            lines.append(f"{pad}{ids(path)} -.-> {ids(_join(branch, sub.start_at))}")
    for name, node in graph.steps.items():
        path = _join(prefix, name)
        if node.next and not node.terminal:
            lines.append(f"{pad}{ids(path)} --> {ids(_join(prefix, node.next))}")
        if node.on_failure:
            lines.append(f"{pad}{ids(path)} -. on failure .-> {ids(_join(prefix, node.on_failure))}")


# ---- dot ------------------------------------------------------------------------------------------
def _dot(graph: Graph, statuses, title: str) -> str:
    ids, lines = _Ids(), ["digraph pipeline {", "  rankdir=TB;", '  node [shape=box, fontname="Helvetica"];']
    if title:
        lines.append(f'  label="{_label(title, "dot")}";')
    _dot_graph(graph, "", ids, lines, statuses, "  ")
    lines.append("}")
    return "\n".join(lines)


def _dot_graph(graph: Graph, prefix: str, ids: _Ids, lines: list[str], statuses, pad: str) -> None:
    for name, node in graph.steps.items():
        path = _join(prefix, name)
        state = statuses.get(path) if statuses is not None else None
        attrs = [f'label="{_label(_node_label(name, node, state), "dot")}"']
        if node.terminal:
            attrs.append("shape=ellipse")
        elif node.composite:
            attrs.append("shape=box3d")
        if statuses is not None and not node.terminal:
            fill, stroke = COLOURS[state.status if state else "NOT RUN"]
            attrs += ["style=filled", f'fillcolor="{fill}"', f'color="{stroke}"']
        lines.append(f"{pad}{ids(path)} [{', '.join(attrs)}];")
        for key, sub in node.branch_graphs().items():
            branch = _join(path, key)
            lines.append(f"{pad}subgraph cluster_{ids(branch)} {{")
            lines.append(f'{pad}  label="{_label(f"{name} / {key}", "dot")}";')
            _dot_graph(sub, branch, ids, lines, statuses, pad + "  ")
            lines.append(f"{pad}}}")
            lines.append(f"{pad}{ids(path)} -> {ids(_join(branch, sub.start_at))} [style=dashed];")
    for name, node in graph.steps.items():
        path = _join(prefix, name)
        if node.next and not node.terminal:
            lines.append(f"{pad}{ids(path)} -> {ids(_join(prefix, node.next))};")
        if node.on_failure:
            lines.append(f'{pad}{ids(path)} -> {ids(_join(prefix, node.on_failure))} [style=dotted, label="on failure"];')
