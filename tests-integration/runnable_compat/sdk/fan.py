"""Map, parallel and conditional steps, for the executors that run steps in other processes."""

from stepline import Conditional, Map, Parallel, Pipeline, PythonTask, ShellTask, Stub
from steps import square, total


def main():
    squares = Map(name="squares", iterate_on="numbers", iterate_as="x",
                  branch=PythonTask(name="square", function=square, returns=["squares"]).as_pipeline())
    add = PythonTask(name="add", function=total, returns=["sum"])
    both = Parallel(name="both", branches={
        "left": ShellTask(name="left", command='echo "left sees $sum"').as_pipeline(),
        "right": Stub(name="right").as_pipeline(),
    })
    pick = Conditional(name="pick", parameter="mode", branches={
        "fast": ShellTask(name="fast", command="echo fast path").as_pipeline(),
        "slow": ShellTask(name="slow", command="echo slow path").as_pipeline(),
    })
    pipeline = Pipeline(steps=[squares, add, both, pick])
    pipeline.execute(parameters_file="fan.yaml")
    return pipeline


if __name__ == "__main__":
    main()
