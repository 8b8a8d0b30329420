"""A pipeline built and run at module level, kept in a variable."""

from stepline import Pipeline, PythonTask
from steps import greet

pipeline = Pipeline(steps=[PythonTask(name="hello", function=greet)])

if __name__ == "__main__":
    pipeline.execute()
