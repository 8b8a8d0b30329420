"""Run a command and hand what it printed last to the state machine through S3.

    python -m stepline_stepfunctions.relay s3://BUCKET/KEY -- stepline fan RUN STEP out -f P -c C

AWS Batch and ECS ``.sync`` integrations return the job's description, not its output, so the
``fan`` callbacks of map, conditional and loop steps store what they print (the branch keys as a
JSON array, the loop's ``continue``/``SUCCESS``) at an S3 key the next state reads with
``aws-sdk:s3:getObject`` and ``States.StringToJson``: the last non-empty line, as is when it is JSON,
else as a JSON string. The command's output passes through unchanged; the relay exits with the
command's exit code (1 when the command succeeded but printed nothing, or the upload failed). Needs boto3 (``stepline-stepfunctions[relay]``);
``AWS_ENDPOINT_URL`` points it at an S3-compatible server.
"""

from __future__ import annotations

import json
import subprocess
import sys


def last_value(text: str):
    """The last non-empty line of ``text``: parsed when it is JSON, else the string (None: no line)."""
    for line in reversed(text.splitlines()):
        line = line.strip()
        if not line:
            continue
        try:
            return json.loads(line)
        except ValueError:
            return line
    return None


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 3 or args[1] != "--" or not args[0].startswith("s3://"):
        print("usage: python -m stepline_stepfunctions.relay s3://BUCKET/KEY -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    url, command = args[0], args[2:]
    bucket, _, key = url[len("s3://"):].partition("/")
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    except OSError as exc:
        print(f"error: cannot run {command[0]!r}: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(done.stdout)
    sys.stdout.flush()
    if done.returncode != 0:
        return done.returncode
    value = last_value(done.stdout)
    if value is None:
        print(f"error: {' '.join(command[:4])} printed nothing for the state machine", file=sys.stderr)
        return 1
    try:
        import boto3

        boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=json.dumps(value).encode(),
                                      ContentType="application/json")
    except Exception as exc:  # noqa: BLE001 - any upload failure must fail the Task state, in one line
        print(f"error: cannot store the result at {url}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
