"""The SDK form of pipeline.yaml: repeat a branch until it says it is done.

Run it from this folder:  stepline execute pipeline:pipeline
"""

import steps
from stepline import Loop, Pipeline, PythonTask

improve = Loop("improve", max_iterations=5, break_on="good_enough", index_as="iteration",
               branch=Pipeline(steps=[PythonTask("step", function=steps.improve, returns=["score", "good_enough"])]))

pipeline = Pipeline(steps=[improve], description="Improve until good enough, at most five times.")

if __name__ == "__main__":
    pipeline.execute()
