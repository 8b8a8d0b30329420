"""Secrets are masked in every byte that leaves a step: console, execution log, run log, notebooks."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap

import pytest
from stepline.tasks.output import MASK, OutputSink

PEM = ("-----BEGIN PRIVATE KEY-----\n"
       "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
       "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n"
       "-----END PRIVATE KEY-----")
KEY_LINES = [line for line in PEM.splitlines() if "PRIVATE" not in line]


def test_a_secret_split_across_writes_and_lines_is_masked():
    sink = OutputSink([PEM], echo=False)
    text = f"before {PEM} after\n"
    for i in range(0, len(text), 7):
        sink.write(text[i:i + 7])
        sink.flush()
    assert sink.text() == f"before {MASK} after\n"


@pytest.mark.parametrize("shown", [repr(PEM), json.dumps(PEM), json.dumps({"k": PEM}),
                                   base64.b64encode(PEM.encode()).decode(),
                                   base64.encodebytes((PEM + "\n").encode()).decode(),  # `echo | base64`, wrapped
                                   PEM.replace("\n", "\r\n"), KEY_LINES[1]])
def test_encoded_forms_and_single_lines_of_a_secret_are_masked(shown):
    sink = OutputSink([PEM], echo=False)
    sink.write(f"x {shown} y\n")
    out = sink.text()
    assert MASK in out
    assert all(line not in out for line in KEY_LINES)
    assert base64.b64encode(PEM.encode()).decode()[:40] not in out


def test_output_without_secrets_passes_at_once():
    sink = OutputSink([], echo=False)
    sink.write("partial")
    assert sink._log.getvalue() == "partial"


def test_a_short_secret_masks_only_itself():
    sink = OutputSink(["abc"], echo=False)
    sink.write("xabcx ab c\n")
    assert sink.text() == f"x{MASK}x ab c\n"


STEPS = '''
import json, logging, os, subprocess, sys

import stepline

HANDLER = logging.StreamHandler(sys.stderr)  # made at import, holding the real stderr
logging.getLogger("leaky").addHandler(HANDLER)
logging.getLogger("leaky").setLevel(logging.INFO)


def leak():
    key = stepline.get_secret("PEM_KEY")
    print(key)
    print(repr(key), json.dumps({"key": key}))
    os.write(1, ("raw fd " + key + "\\n").encode())
    os.write(2, ("raw fd2 " + key + "\\n").encode())
    subprocess.run(["bash", "-c", 'echo "sub $PEM_KEY"; echo "$PEM_KEY" | base64'], check=True)
    logging.getLogger("leaky").info("log %s", key)
    sys.stdout.write(key[:30])
    sys.stdout.write(key[30:] + "\\n")


def fail():
    raise ValueError(repr(stepline.get_secret("PEM_KEY")))


def peek():
    print("TOKEN is", "set" if "TOKEN" in os.environ else "absent")
'''

PIPELINE = '''
dag:
  start_at: python leak
  steps:
    python leak: {type: task, command: steps_leak.leak, secrets: [PEM_KEY], next: shell leak}
    shell leak:
      type: task
      command_type: shell
      secrets: [PEM_KEY]
      command: |
        echo "$PEM_KEY"
        printf '%q\\n' "$PEM_KEY"
        echo "$PEM_KEY" | base64
        python3 -c 'import os, json; print(json.dumps(os.environ["PEM_KEY"]))'
      next: python fail
    python fail: {type: task, command: steps_leak.fail, secrets: [PEM_KEY], on_failure: done, next: done}
    done: {type: stub}
'''


def _everything_written(folder):
    for path in folder.rglob("*"):
        if path.is_file():
            yield path, path.read_bytes().decode("utf-8", "replace")


def test_nothing_a_step_writes_reveals_a_multi_line_secret(tmp_path):
    (tmp_path / "steps_leak.py").write_text(STEPS)
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    (tmp_path / ".env").write_text('PEM_KEY="' + PEM.replace("\n", "\\n") + '"\n')
    (tmp_path / "config.yaml").write_text("secrets: {type: dotenv, config: {location: .env}}\n")
    shown = subprocess.run([sys.executable, "-m", "stepline", "execute", "pipeline.yaml", "-c", "config.yaml",
                            "--run-id", "leak-1", "--no-progress"], cwd=tmp_path, capture_output=True, check=False,
                           text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert shown.returncode == 0, shown.stderr[-2000:]
    console = shown.stdout + shown.stderr
    assert console.count(MASK) >= 12
    for line in KEY_LINES:
        assert line not in console
    encoded = base64.b64encode((PEM + "\n").encode()).decode()
    written = dict(_everything_written(tmp_path / ".stepline"))
    assert any(path.name.startswith("python leak.attempt-1") for path in written)
    for path, text in written.items():
        for needle in [*KEY_LINES, encoded[:60], repr(PEM)[1:40]]:
            assert needle not in text, f"{path} reveals the secret"
    run_log = "".join(t for p, t in written.items() if p.suffix == ".json")
    assert "ValueError: '-----BEGIN" not in run_log and MASK in run_log


def test_with_env_secrets_a_step_sees_only_the_secrets_it_lists(tmp_path):
    (tmp_path / "steps_leak.py").write_text(STEPS)
    (tmp_path / "pipeline.yaml").write_text(textwrap.dedent('''
        dag:
          start_at: lists it
          steps:
            lists it: {type: task, command: steps_leak.peek, secrets: [TOKEN], next: does not}
            does not: {type: task, command: steps_leak.peek, next: shell}
            shell: {type: task, command_type: shell, command: 'echo "shell TOKEN=${TOKEN:-absent}"'}
    '''))
    shown = subprocess.run([sys.executable, "-m", "stepline", "execute", "pipeline.yaml", "--no-progress"],
                           cwd=tmp_path, capture_output=True, check=False, text=True, timeout=120,
                           env={**os.environ, "PYTHONPATH": str(tmp_path), "TOKEN": "s3cr3t-token"})
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert shown.stdout.splitlines() == ["TOKEN is set", "TOKEN is absent", "shell TOKEN=absent"]
