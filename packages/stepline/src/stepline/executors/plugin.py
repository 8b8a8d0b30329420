"""Built-in executors."""

from stepline.plugins import hookimpl


@hookimpl
def stepline_components():
    from stepline.executors.demo_renderer import DemoRendererExecutor
    from stepline.executors.emulator import EmulatorExecutor
    from stepline.executors.local import LocalExecutor
    from stepline.executors.mocked import MockedExecutor
    from stepline.executors.rerun import RetryExecutor

    return [LocalExecutor, EmulatorExecutor, MockedExecutor, DemoRendererExecutor, RetryExecutor]
