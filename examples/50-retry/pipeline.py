"""The SDK form of pipeline.yaml: the same graph, built in Python.

Run it from this folder:  stepline execute pipeline:pipeline -p params.yaml --run-id first
"""

import steps
from stepline import Map, Pipeline, PythonTask, ShellTask, metric

fetch = ShellTask(
    "fetch",
    command='''\
echo "fetch $region" >> calls.log
if [ "$region" = apac ] && [ -z "$APAC_UP" ]; then
  echo "apac sales server is down (set APAC_UP=1 and retry)"; exit 1
fi
case "$region" in eu) sales=120 ;; us) sales=200 ;; *) sales=80 ;; esac
echo "sales=$sales" >> "$STEPLINE_RETURNS"
''',
    returns=["sales"],
)

pipeline = Pipeline(
    steps=[
        PythonTask("plan", function=steps.plan, returns=["regions"]),
        Map("download", iterate_on="regions", iterate_as="region", branch=Pipeline(steps=[fetch])),
        PythonTask("total", function=steps.total, returns=[metric("revenue")]),
    ],
    description="Download sales per region, then total them.",
)

if __name__ == "__main__":
    pipeline.execute(parameters_file="params.yaml")
