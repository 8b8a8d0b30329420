"""The SDK form of pipeline.yaml: the same graph, built in Python.

Run it from this folder:  stepline execute pipeline:pipeline      (or: python pipeline.py)
"""

from stepline import Pipeline, ShellTask, Stub

hello = ShellTask(
    "hello",
    command='''\
echo "hello from $(basename "$PWD")"
export greeting="hello world"          # a return read from an exported variable
echo "count=3" >> "$STEPLINE_RETURNS"  # or written as name=value to $STEPLINE_RETURNS
''',
    returns=["greeting", "count"],
)
echo_greeting = ShellTask("echo greeting", command='echo "the previous step said $greeting ($count times)"')
done = Stub("done", note="a stub accepts any keys and always succeeds")

pipeline = Pipeline(steps=[hello, echo_greeting, done], description="Hello from the shell")

if __name__ == "__main__":
    pipeline.execute()
