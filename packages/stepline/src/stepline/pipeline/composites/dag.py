"""The dag step: a sub-pipeline from another file."""

import os
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import ValidationInfo, model_validator

from stepline.errors import PipelineDefinitionError
from stepline.pipeline.composites.base import BranchPlan, CompositeNode, Params
from stepline.pipeline.graph import Graph, join


class DagNode(CompositeNode):
    """A sub-pipeline from another file (``dag_definition``, relative to the including file)."""

    name: ClassVar[str] = "dag"
    type: Literal["dag"] = "dag"
    dag_definition: str
    branch: Graph | None = None

    @model_validator(mode="after")
    def _load(self, info: ValidationInfo) -> "DagNode":
        if self.branch is None:
            from stepline.pipeline.loader import parse_graph
            from stepline.pipeline.yaml_io import load_yaml_file

            context = info.context or {}
            base = Path(context.get("base_dir") or Path.cwd())
            path = base / self.dag_definition
            chain = tuple(context.get("includes", ()))
            if str(path.resolve()) in chain:
                names = [Path(p).name for p in (*chain[chain.index(str(path.resolve())):], str(path.resolve()))]
                raise PipelineDefinitionError("dag_definition includes form a cycle: " + " -> ".join(names),
                                              file=context.get("file"), hint="a pipeline cannot include itself")
            if not os.path.isfile(path):  # False, not an OSError, for a name too long
                raise PipelineDefinitionError(f"dag_definition '{self.dag_definition}' is not a file (looked in {base})",
                                              file=context.get("file"), hint="paths are relative to the including file")
            raw = load_yaml_file(path)
            body = raw.get("dag", raw.get("pipeline")) if isinstance(raw, dict) else None
            if body is None:
                raise PipelineDefinitionError(f"dag_definition '{self.dag_definition}' has no top-level 'dag:'",
                                              file=context.get("file"), hint="point at a pipeline file")
            self.branch = parse_graph(body, file=str(path), prefix=join(context.get("path", ""), "dag"),
                                      base_dir=path.resolve().parent, includes=(*chain, str(path.resolve())))
        return self

    def branch_graphs(self) -> dict[str, Graph]:
        return {"dag": self.branch} if self.branch else {}

    def fan_out(self, parent: Params) -> list[BranchPlan]:
        return [BranchPlan("dag", self.branch, {})]
