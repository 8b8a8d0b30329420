"""Built-in node types."""

from stepline.plugins import hookimpl


@hookimpl
def stepline_components():
    from stepline.pipeline.composites import ConditionalNode, DagNode, LoopNode, MapNode, ParallelNode
    from stepline.pipeline.nodes import FailNode, StubNode, SuccessNode, TaskNode

    return [TaskNode, StubNode, SuccessNode, FailNode, ParallelNode, MapNode, ConditionalNode, LoopNode, DagNode]
