"""The SDK form of pipeline.yaml.

Run it from this folder:  stepline execute pipeline:pipeline -p params.yaml   (or: python pipeline.py)
"""

import steps
from stepline import Catalog, NotebookTask, Pipeline, PythonTask, metric

pipeline = Pipeline(steps=[
    PythonTask("make numbers", function=steps.make_numbers, returns=["numbers"]),
    NotebookTask("summarise", notebook="summarise.ipynb", returns=["total", metric("mean")],
                 catalog=Catalog(put=["data/summary.txt"])),
    PythonTask("report", function=steps.report),
])

if __name__ == "__main__":
    pipeline.execute(parameters_file="params.yaml")
