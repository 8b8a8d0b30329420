"""The SDK form of pipeline.yaml: a branch for every item of a list.

Run it from this folder:  stepline execute pipeline:pipeline -p params.yaml
"""

import steps
from stepline import Map, Pipeline, PythonTask, ShellTask

chunks = PythonTask("chunks", function=steps.make_chunks, returns=["chunks"])
process = Map("process", iterate_on="chunks", iterate_as="chunk",
              branch=Pipeline(steps=[PythonTask("count", function=steps.count_rows, returns=["rows"])]))
largest = Map("largest", iterate_on="chunks", iterate_as="chunk", reducer="lambda *sizes: max(sizes)",
              branch=Pipeline(steps=[ShellTask("size", command="export size=$(( chunk * 10 ))", returns=["size"])]))
report = PythonTask(function=steps.report)

pipeline = Pipeline(steps=[chunks, process, largest, report],
                    description="Process every chunk of a data set, then total the results.")

if __name__ == "__main__":
    pipeline.execute(parameters_file="params.yaml")
