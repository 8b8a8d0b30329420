"""Rendered job scripts: golden files per dialect, quoting of hostile values, per-step overrides."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from stepline_slurm.jobspec import JobSpec, job_name, render_script

GOLDEN = Path(__file__).parent / "golden"
SPEC = JobSpec(partition="gpu queue", account="proj-42", time="01:30:00", nodes=2, cpus_per_task=4, mem="8G",
               modules=["python/3.11", "cuda/12.1"], setup=["source /opt/site/env.sh"],
               env={"OMP_NUM_THREADS": "4", "NOTE": "it's $HOME; `x`"},
               extra_directives=["--qos=high"])
COMMAND = ["/opt/venv/bin/stepline", "execute-single-node", "run-1", "fan.3.train", "-f", "my pipeline.yaml",
           "-c", "config.yaml"]


def render(dialect: str, spec: JobSpec = SPEC) -> str:
    return render_script(spec, dialect, name=job_name("sl-fan.3.train", dialect), output="/shared/jobs/run-1/x.out",
                         workdir="/shared/my project", command=COMMAND, env={"STEPLINE_RUN_ID": "run-1"})


@pytest.mark.parametrize("dialect", ["slurm", "pbs", "pjm"])
def test_golden_scripts(dialect):
    spec = SPEC if dialect == "slurm" else SPEC.model_copy(update={
        "extra_directives": ["-l place=scatter"] if dialect == "pbs" else ['--mpi "proc=8"']})
    text = render(dialect, spec)
    golden = GOLDEN / f"{dialect}.sh"
    if os.environ.get("STEPLINE_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()
    assert subprocess.run(["bash", "-n"], input=text, text=True, check=False).returncode == 0


def test_hostile_values_stay_values(tmp_path):
    """Every value is quoted: running the script's non-directive lines echoes them back unchanged."""
    spec = JobSpec(env={"NOTE": "a'b; touch pwned $(touch pwned2)"}, modules=["x; touch pwned3"])
    text = render_script(spec, "slurm", name="n", output="o", workdir=str(tmp_path),
                         command=["bash", "-c", 'printf "%s|" "$NOTE" "$1"', "_", "; touch pwned4"])
    text = text.replace("module load", "true")  # no module system here
    done = subprocess.run(["bash", "-c", text], check=False, cwd=tmp_path, capture_output=True, text=True)
    assert done.stdout == "a'b; touch pwned $(touch pwned2)|; touch pwned4|"
    assert not list(tmp_path.glob("pwned*"))


def test_pbs_job_names_are_short():
    assert job_name("sl-fan.3.train.with.a.long.name", "pbs") == "sl-fan.3.train."
    assert job_name("3.step", "pbs") == "s3.step"
