"""The SDK form of pipeline.yaml: the same graph, built in Python.

Run it from this folder:  stepline execute pipeline:pipeline -p params.yaml   (or: python pipeline.py)
"""

import steps
from stepline import Pipeline, PythonTask, metric, pickled

train = PythonTask(function=steps.train, returns=["summary", metric("final_loss"), pickled("trained")])
evaluate = PythonTask(function=steps.evaluate, returns=[metric("accuracy")])

pipeline = Pipeline(steps=[train, evaluate])

if __name__ == "__main__":
    pipeline.execute(parameters_file="params.yaml")
