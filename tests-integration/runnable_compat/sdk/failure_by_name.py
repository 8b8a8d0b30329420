"""runnable's older SDK forms: a step's on_failure set to another step's name, the failure path written
as a list inside `steps`, and `add_terminal_nodes=True`. `python failure_by_name.py [missing]`."""

import sys

from stepline import Pipeline, PythonTask, ShellTask, Stub
from steps import check_flag


def main(target: str = "notify"):
    check = PythonTask(name="check", function=check_flag)
    after = Stub(name="after", terminate_with_success=True)
    notify = ShellTask(name="notify", command="echo notified", terminate_with_success=True)
    check.on_failure = target
    pipeline = Pipeline(steps=[check, after, [notify]], add_terminal_nodes=True)
    pipeline.execute()
    return pipeline


if __name__ == "__main__":
    main(*sys.argv[1:])
