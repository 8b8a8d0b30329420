"""The pure state readers, on output captured from the real commands (Slurm: this machine's
single-node cluster, `scontrol show job -o`; PBS/PJM: the documented formats)."""

from __future__ import annotations

from pathlib import Path

import pytest
from stepline_slurm.schedulers import parse_fields, parse_pjstat, parse_qstat, parse_scontrol

CAPTURED = Path(__file__).parent / "captured"


@pytest.mark.parametrize(("name", "state", "finished", "reason", "code", "signal"), [
    ("completed", "COMPLETED", True, "None", 0, None),
    ("failed", "FAILED", True, "NonZeroExitCode", 3, None),
    ("cancelled", "CANCELLED", True, "Resources", 0, None),
    # sbatch --time=1 'sleep 200': killed by the time limit (Slurm's minimum limit is one minute,
    # too slow for the cluster test, so the TIMEOUT path is tested here on the captured record)
    ("timeout", "TIMEOUT", True, "TimeLimit", 0, 15),
    ("running", "RUNNING", False, "None", 0, None),
])
def test_scontrol_states(name, state, finished, reason, code, signal):
    job = parse_scontrol((CAPTURED / f"scontrol-{name}.txt").read_text())
    assert (job.state, job.finished, job.reason, job.exit_code, job.signal) == (state, finished, reason, code, signal)
    assert job.ok == (name == "completed")


def test_scontrol_unknown_job_and_spaces_in_values():
    assert parse_scontrol((CAPTURED / "scontrol-invalid.txt").read_text()) is None
    fields = parse_fields("JobId=7 JobName=a b=c JobState=OUT_OF_MEMORY Reason=OutOfMemory ExitCode=0:125")
    assert fields["JobState"] == "OUT_OF_MEMORY"
    job = parse_scontrol("JobId=7 JobName=x JobState=OUT_OF_MEMORY Reason=OutOfMemory ExitCode=0:125")
    assert job.finished and not job.ok and "OutOfMemory" in job.describe()


QSTAT_RUNNING = """Job Id: 4242.pbs01
    Job_Name = sl-train
    job_state = R
    queue = workq
"""
QSTAT_WALLTIME = """Job Id: 4243.pbs01
    Job_Name = sl-train
    job_state = F
    queue = workq
    comment = Job run at Mon Nov 23 at 10:00 on (node1:ncpus=1) and finished; walltime 
\texceeded limit 00:01:00
    Exit_status = 271
"""


def test_qstat_states():
    running = parse_qstat(QSTAT_RUNNING)
    assert (running.state, running.finished) == ("R", False)
    killed = parse_qstat(QSTAT_WALLTIME)
    assert killed.finished and killed.signal == 15 and not killed.ok
    assert "walltime exceeded" in killed.reason
    assert parse_qstat("") is None


def test_pjstat_states():
    assert parse_pjstat("JOB_ID,ST,EC,PC,REASON\n12,RUN,-,-,-\n").finished is False
    done = parse_pjstat("JOB_ID,ST,EC,PC,REASON\n12,EXT,0,0,-\n")
    assert done.ok and done.reason == ""
    cancelled = parse_pjstat("JOB_ID,ST,EC,PC,REASON\n13,CCL,-,-,PJM pjdel\n")
    assert cancelled.finished and not cancelled.ok and cancelled.reason == "PJM pjdel"
    assert parse_pjstat("") is None
