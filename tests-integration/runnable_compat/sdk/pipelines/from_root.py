"""A script in a subfolder that imports a module of the project's root, as runnable's examples do
(`from examples.common.functions import ...`): run from the root, `python pipelines/from_root.py`."""

from stepline import PythonTask
from steps import greet


def main():
    pipeline = PythonTask(name="greet", function=greet, returns=["greeting"]).as_pipeline()
    pipeline.execute()
    return pipeline


if __name__ == "__main__":
    main()
