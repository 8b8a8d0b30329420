"""The SDK form of pipeline.yaml: a failing step routed by on_failure.

Run it from this folder:  stepline execute pipeline:pipeline      (or: python pipeline.py)
"""

from stepline import Fail, Pipeline, ShellTask

clean_up = ShellTask("clean up", command='echo "cleaning up after the failed extract"')
extract = ShellTask(
    "extract",
    command='''\
echo "extracting..."
echo "the source is unreachable" >&2
exit 3
''',
    on_failure=Pipeline(steps=[clean_up, Fail("failed")]),  # taken when the step fails
)
transform = ShellTask("transform", command='echo "never runs"')

pipeline = Pipeline(steps=[extract, transform])

if __name__ == "__main__":
    pipeline.execute()
