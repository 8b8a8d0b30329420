"""Built-in node types."""

from stepline.plugins import LazyComponent, hookimpl


@hookimpl
def stepline_components():
    return [
        LazyComponent("node", "task", "stepline.pipeline.nodes:TaskNode"),
        LazyComponent("node", "stub", "stepline.pipeline.nodes:StubNode"),
        LazyComponent("node", "success", "stepline.pipeline.nodes:SuccessNode"),
        LazyComponent("node", "fail", "stepline.pipeline.nodes:FailNode"),
        LazyComponent("node", "parallel", "stepline.pipeline.composites:ParallelNode"),
        LazyComponent("node", "map", "stepline.pipeline.composites:MapNode"),
        LazyComponent("node", "conditional", "stepline.pipeline.composites:ConditionalNode"),
        LazyComponent("node", "loop", "stepline.pipeline.composites:LoopNode"),
        LazyComponent("node", "dag", "stepline.pipeline.composites:DagNode"),
    ]
