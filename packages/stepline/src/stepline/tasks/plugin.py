"""Built-in task types."""

from stepline.plugins import hookimpl


@hookimpl
def stepline_components():
    from stepline.tasks.notebook import NotebookTaskType
    from stepline.tasks.python import PythonTaskType
    from stepline.tasks.shell import ShellTaskType

    return [PythonTaskType, ShellTaskType, NotebookTaskType]
