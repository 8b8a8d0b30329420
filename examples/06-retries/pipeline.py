"""The SDK form of pipeline.yaml: retries and timeouts.

Run it from this folder:  stepline execute pipeline:pipeline      (or: python pipeline.py)
"""

from stepline import Pipeline, ShellTask

flaky = ShellTask(
    "flaky",
    command='''\
mkdir -p .stepline
n=$(( $(cat .stepline/flaky-count 2>/dev/null || echo 0) + 1 ))
echo "$n" > .stepline/flaky-count
if [ "$n" -lt 3 ]; then echo "attempt $n: service busy"; exit 1; fi
rm .stepline/flaky-count
echo "attempt $n: done"
export attempts_needed=$n
''',
    returns=["attempts_needed"],
    max_attempts=3,            # one attempt record each in the run log
    retry_delay_seconds=0.2,   # wait between attempts
)
report_timeout = ShellTask("report timeout", command='echo "the slow step timed out; continuing without it"')
slow = ShellTask("slow", command='echo "starting a long job"; sleep 30; echo "never printed"',
                 timeout_seconds=0.5,          # killed after half a second; the step fails
                 on_failure=report_timeout)

pipeline = Pipeline(steps=[flaky, slow])

if __name__ == "__main__":
    pipeline.execute()
