"""The SDK form of pipeline.yaml: two branches at the same time.

Run it from this folder:  stepline execute pipeline:pipeline -p params.yaml
"""

import steps
from stepline import Parallel, Pipeline, PythonTask, metric

train_both = Parallel("train both", branches={
    "linear": Pipeline(steps=[PythonTask("fit", function=steps.fit_linear, returns=[metric("linear_score")])]),
    "forest": Pipeline(steps=[PythonTask("fit", function=steps.fit_forest, returns=[metric("forest_score")])]),
})
compare = PythonTask(function=steps.compare, returns=["best"])

pipeline = Pipeline(steps=[train_both, compare], description="Train two models at the same time, then compare them.")

if __name__ == "__main__":
    pipeline.execute(parameters_file="params.yaml")
