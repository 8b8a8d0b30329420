"""The SDK form of pipeline.yaml. Functions of steps with an environment are named by their dotted
path, so this module does not import their packages."""

from stepline import Pipeline, PythonTask

pipeline = Pipeline(
    description="Two versions of one library in one pipeline, each step in its own uv environment.",
    steps=[
        PythonTask("old", function="steps.old_table", returns=["old"], uv={"dependencies": ["tabulate==0.8.10"]}),
        PythonTask("new", function="steps.new_table", returns=["new"], uv={"dependencies": ["tabulate==0.9.0"]}),
        PythonTask("size", function="report.size_of", returns=["size"]),
        PythonTask("summary", function="steps.in_process", returns=["summary"]),
    ],
)

if __name__ == "__main__":
    pipeline.execute(parameters_file="params.yaml")
