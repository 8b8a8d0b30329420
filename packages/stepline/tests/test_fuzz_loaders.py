"""Seeded fuzzing of every loader (pipeline, job, config, parameters) under a time and memory limit.

The CI budget is small (up to 2,000 mutants or 12 s); `python -m stepline.testing.fuzz --count 10000`
runs the large budget the issue's figures come from.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from stepline.testing.fuzz import PLAIN_PIPELINE, mutants

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_every_mutant_loads_or_is_a_short_error_naming_the_file(tmp_path):
    shown = subprocess.run([sys.executable, "-m", "stepline.testing.fuzz", "--count", "2000", "--seed", "14",
                            "--corpus", str(EXAMPLES), "--folder", str(tmp_path), "--budget", "12",
                            "--time-limit", "5", "--memory-mb", "768"],
                           capture_output=True, text=True, timeout=180)
    assert shown.returncode == 0, shown.stderr[-2000:]
    summary = json.loads(shown.stdout)
    assert summary["mutants"] >= 200
    assert set(summary["outcomes"]) <= {"ok", "error"}, summary["bad"][:5]
    assert summary["outcomes"].get("error", 0) > summary["mutants"] // 4  # the mutants really are hostile
    assert summary["slowest"]["seconds"] < 5


def test_the_cli_never_prints_a_traceback_on_mutated_files(tmp_path):
    (tmp_path / "plain.yaml").write_text(PLAIN_PIPELINE)
    env = {**os.environ, "STEPLINE_DEBUG": ""}
    sample = [m for m in mutants([EXAMPLES], 400, seed=7) if m.data.strip()][::50]
    assert len(sample) >= 6
    for mutant in sample:
        name = f"{mutant.kind}-{mutant.index}.yaml"
        (tmp_path / name).write_bytes(mutant.data)
        command = {"pipeline": ["validate", name], "job": ["validate", name],
                   "config": ["validate", "plain.yaml", "-c", name],
                   "params": ["execute", "plain.yaml", "-p", name, "--no-progress"]}[mutant.kind]
        shown = subprocess.run([sys.executable, "-m", "stepline", *command], cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=60)
        where = f"{name} ({mutant.edits}): {shown.stderr[-500:]}"
        assert "Traceback" not in shown.stderr and "internal error" not in shown.stderr, where
        assert shown.returncode in (0, 2), where
        if shown.returncode == 2:
            assert len(shown.stderr.strip().splitlines()) <= 2 and name in shown.stderr, where
