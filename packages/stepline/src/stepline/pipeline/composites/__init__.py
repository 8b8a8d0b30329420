"""Composite steps: parallel, map, conditional, loop and nested dag.

Each node holds its branches as graphs and knows, as pure functions, how to fan out (which
branches run, with which parameters) and fan in (which parameters flow back to the parent).
Executors and orchestrators' ``fan`` callbacks share these functions.

Each kind lives in its own module, imported the first time its name is asked for here (or its step
type is met in a pipeline): building a node class costs pydantic about a millisecond, and most
pipelines use one or two kinds. :func:`is_loop` answers without importing the loop's module.
"""

import importlib
from typing import TYPE_CHECKING, Any

from stepline.pipeline.composites.base import (
    BranchPlan,
    CompositeError,
    CompositeNode,
    Params,
    check_branch_name,
    parse_branch,
    returned,
)
from stepline.pipeline.composites.reducer import SAFE_BUILTINS, compile_reducer

if TYPE_CHECKING:
    from stepline.pipeline.composites.conditional import ConditionalNode
    from stepline.pipeline.composites.dag import DagNode
    from stepline.pipeline.composites.loop import LoopNode
    from stepline.pipeline.composites.map import MapNode
    from stepline.pipeline.composites.parallel import ParallelNode

#: Each node class, by the module that holds it.
_KINDS = {"ParallelNode": "parallel", "MapNode": "map", "ConditionalNode": "conditional", "LoopNode": "loop",
          "DagNode": "dag"}

__all__ = ["SAFE_BUILTINS", "BranchPlan", "CompositeError", "CompositeNode", "ConditionalNode", "DagNode", "LoopNode",
           "MapNode", "ParallelNode", "Params", "check_branch_name", "compile_reducer", "is_loop", "parse_branch",
           "returned"]


def __getattr__(name: str) -> Any:
    if name in _KINDS:
        return getattr(importlib.import_module(f"{__name__}.{_KINDS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_loop(node: object) -> bool:
    """Whether ``node`` is a loop step; a run whose pipeline has none never imports the loop's module."""
    from stepline.plugins.lazy import loaded_instance

    return loaded_instance(node, f"{__name__}.loop:LoopNode")
