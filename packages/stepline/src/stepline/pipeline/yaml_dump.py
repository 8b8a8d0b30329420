"""A Graph as runnable/magnus YAML; loading the text back gives an equal graph.

The dump is of the completed graph (``success``/``fail`` steps and every ``next`` spelled out),
with default values left out. Branches of composite steps are written inline; a ``dag`` step keeps
its ``dag_definition`` (a path relative to the file that includes it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stepline.pipeline.graph import Graph
    from stepline.pipeline.nodes import Node


def graph_to_dict(graph: Graph) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if graph.description:
        out["description"] = graph.description
    out["start_at"] = graph.start_at
    out["steps"] = {name: node_to_dict(node) for name, node in graph.steps.items()}
    return out


def node_to_dict(node: Node) -> dict[str, Any]:
    from stepline.pipeline.graph import Graph

    data: dict[str, Any] = {"type": node.type}
    dumped = node.model_dump(mode="json", exclude_defaults=True)
    for key, value in dumped.items():
        if key == "type":
            continue
        raw = getattr(node, key, None)
        if node.type == "dag" and key == "branch":
            continue  # rebuilt from dag_definition
        if isinstance(raw, Graph):
            value = graph_to_dict(raw)
        elif isinstance(raw, dict) and raw and all(isinstance(v, Graph) for v in raw.values()):
            value = {k: graph_to_dict(v) for k, v in raw.items()}
        elif key == "returns":
            value = [r["name"] if set(r) == {"name"} else r for r in value]
        data[key] = value
    for key in ("next", "on_failure"):  # routing last, as people write it
        if key in data:
            data[key] = data.pop(key)
    return data


def to_yaml(graph: Graph) -> str:
    """The pipeline file text (``dag:`` at the top)."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper, value: str):
        style = "|" if "\n" in value and not value.startswith((" ", "\t")) else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return yaml.dump({"dag": graph_to_dict(graph)}, Dumper=Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=1000)
