"""A single task run as a pipeline: python hello_as_pipeline.py"""

from stepline import PythonTask
from steps import greet


def main():
    pipeline = PythonTask(name="hello", function=greet, returns=["greeting"]).as_pipeline()
    pipeline.execute()
    return pipeline


if __name__ == "__main__":
    main()
