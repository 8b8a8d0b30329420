"""Built-in task types."""

from stepline.plugins import LazyComponent, hookimpl


@hookimpl
def stepline_components():
    return [
        LazyComponent("task", "python", "stepline.tasks.python:PythonTaskType"),
        LazyComponent("task", "shell", "stepline.tasks.shell:ShellTaskType"),
        LazyComponent("task", "notebook", "stepline.tasks.notebook:NotebookTaskType"),
    ]
