"""Built-in task types."""

from stepline.plugins import hookimpl


@hookimpl
def stepline_components():
    from stepline.tasks.python import PythonTask
    from stepline.tasks.notebook import NotebookTask
    from stepline.tasks.shell import ShellTask

    return [PythonTask, ShellTask, NotebookTask]
