"""Parameters from a file named by RUNNABLE_PARAMETERS_FILE, one argument taking the rest."""

from stepline import Pipeline, PythonTask, ShellTask
from steps import settings


def main():
    use = PythonTask(name="use", function=settings, returns=["work"])
    show = ShellTask(name="show", command='echo "work is $work, label is $label"')
    pipeline = Pipeline(steps=[use, show])
    pipeline.execute(parameters_file="defaults.yaml")
    return pipeline


if __name__ == "__main__":
    main()
