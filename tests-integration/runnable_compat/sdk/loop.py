"""A loop that never sets its break parameter and so runs max_iterations times."""

from stepline import Loop, Pipeline, PythonTask, ShellTask
from steps import check_final, count


def body():
    return Pipeline(steps=[
        PythonTask(name="count", function=count, returns=["counter", "stop"]),
        ShellTask(name="echo", command='echo "shell iteration $counter"'),
    ])


def main():
    loop = Loop(name="again", branch=body(), max_iterations=3, break_on="stop", index_as="counter")
    after = PythonTask(name="after", function=check_final)
    pipeline = Pipeline(steps=[loop, after])
    pipeline.execute()
    return pipeline


if __name__ == "__main__":
    main()
