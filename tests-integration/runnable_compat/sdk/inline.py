"""A pipeline built and run at module level with no name and no function to rebuild it from."""

from stepline import PythonTask
from steps import greet

if __name__ == "__main__":
    PythonTask(name="hello", function=greet).as_pipeline().execute()
