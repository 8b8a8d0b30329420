"""runnable's branch chosen by an expression, `as_conditional_pipeline(evaluate=...)`: Stepline says
in one line that it is not supported, before anything runs."""

from stepline import Conditional, Pipeline, PythonTask
from steps import greet


def main():
    heads = PythonTask(name="heads", function=greet).as_conditional_pipeline(evaluate="'$toss' == 'heads'")
    pipeline = Pipeline(steps=[Conditional(name="pick", branches={"heads": heads}, parameter="toss")])
    pipeline.execute()
    return pipeline


if __name__ == "__main__":
    main()
