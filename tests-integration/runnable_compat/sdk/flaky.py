"""Fails unless should_pass=true is in the environment: python flaky.py"""

from stepline import Pipeline, PythonTask, Stub
from steps import check_flag


def main():
    pipeline = Pipeline(steps=[Stub(name="prepare"), PythonTask(name="check", function=check_flag)])
    pipeline.execute()
    return pipeline


if __name__ == "__main__":
    main()
