"""Built-in executors."""

from stepline.plugins import LazyComponent, hookimpl


@hookimpl
def stepline_components():
    return [
        LazyComponent("executor", "local", "stepline.executors.local:LocalExecutor"),
        LazyComponent("executor", "emulator", "stepline.executors.emulator:EmulatorExecutor"),
        LazyComponent("executor", "mocked", "stepline.executors.mocked:MockedExecutor"),
        LazyComponent("executor", "demo-renderer", "stepline.executors.demo_renderer:DemoRendererExecutor"),
        LazyComponent("executor", "retry", "stepline.executors.rerun:RetryExecutor"),
    ]
