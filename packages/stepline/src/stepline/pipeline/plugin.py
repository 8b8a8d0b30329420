"""Built-in node types."""

from stepline.plugins import LazyComponent, hookimpl


@hookimpl
def stepline_components():
    return [
        LazyComponent("node", "task", "stepline.pipeline.nodes:TaskNode"),
        LazyComponent("node", "stub", "stepline.pipeline.nodes:StubNode"),
        LazyComponent("node", "success", "stepline.pipeline.nodes:SuccessNode"),
        LazyComponent("node", "fail", "stepline.pipeline.nodes:FailNode"),
        LazyComponent("node", "parallel", "stepline.pipeline.composites.parallel:ParallelNode"),
        LazyComponent("node", "map", "stepline.pipeline.composites.map:MapNode"),
        LazyComponent("node", "conditional", "stepline.pipeline.composites.conditional:ConditionalNode"),
        LazyComponent("node", "loop", "stepline.pipeline.composites.loop:LoopNode"),
        LazyComponent("node", "dag", "stepline.pipeline.composites.dag:DagNode"),
    ]
