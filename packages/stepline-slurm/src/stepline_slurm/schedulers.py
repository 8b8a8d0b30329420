"""Reading scheduler state: pure parsers of ``scontrol show job -o``, ``qstat -f -x`` and
``pjstat -H --data`` output, each returning a :class:`JobState` (or None: no such job)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class JobState:
    state: str                  # the scheduler's own word: RUNNING, COMPLETED, TIMEOUT, R, F, RUN, EXT...
    finished: bool              # the job will not run any more
    reason: str = ""            # the scheduler's reason (Slurm Reason=, PBS comment, PJM reason)
    exit_code: int | None = None
    signal: int | None = None
    ok: bool = False            # finished and did its work: exit code 0, not killed

    def describe(self) -> str:
        text = self.state
        extra = [self.reason] if self.reason and self.reason not in ("None", "(null)") else []
        if self.exit_code is not None:
            extra.append(f"exit code {self.exit_code}")
        if self.signal:
            extra.append(f"signal {self.signal}")
        return f"{text} ({', '.join(extra)})" if extra else text


# ---- Slurm --------------------------------------------------------------------------------------
#: Job states after which the job never runs again (squeue(1) JOB STATE CODES).
SLURM_FINISHED = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED",
                  "BOOT_FAIL", "DEADLINE", "SPECIAL_EXIT", "REVOKED"}
#: Why a finished job did not do its work, in words for the step log.
SLURM_WHY = {"TIMEOUT": "killed by its time limit", "CANCELLED": "cancelled", "OUT_OF_MEMORY": "ran out of memory",
             "NODE_FAIL": "its node failed", "PREEMPTED": "preempted", "BOOT_FAIL": "its node failed to boot",
             "DEADLINE": "missed its deadline", "FAILED": "failed"}
_FIELD = re.compile(r"(?:^|\s)([A-Za-z][A-Za-z0-9_/:]*)=")


def parse_fields(line: str) -> dict[str, str]:
    """``Key=value Key2=value with spaces`` -> dict (a value runs up to the next `` Key=``)."""
    matches = list(_FIELD.finditer(line))
    out = {}
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(line)
        out[match.group(1)] = line[match.end():end].strip()
    return out


def parse_scontrol(text: str) -> JobState | None:
    """The state of the (first) job in ``scontrol show job -o`` output; None when there is none."""
    for line in text.splitlines():
        if line.startswith("JobId="):
            fields = parse_fields(line)
            state = fields.get("JobState", "UNKNOWN").split("+")[0]  # "CANCELLED+" / "CANCELLED by 0"
            state = state.split()[0] if state else "UNKNOWN"
            code, _, sig = fields.get("ExitCode", "").partition(":")
            exit_code = int(code) if code.isdigit() else None
            return JobState(state=state, finished=state in SLURM_FINISHED, reason=fields.get("Reason", ""),
                            exit_code=exit_code, signal=int(sig) if sig.isdigit() and int(sig) else None,
                            ok=state == "COMPLETED" and exit_code == 0)
    return None


# ---- PBS ----------------------------------------------------------------------------------------
#: PBS Pro/OpenPBS job_state letters: F finished (with -x), Torque: C completed.
PBS_FINISHED = {"F", "C", "X"}


def parse_qstat(text: str) -> JobState | None:
    """The state of the job in ``qstat -f -x JOBID`` output (PBS Pro/OpenPBS; Torque's ``C``)."""
    if "Job Id:" not in text:
        return None
    fields: dict[str, str] = {}
    key = None
    for raw in text.splitlines():
        if raw.startswith("Job Id:"):
            continue
        if raw.startswith("\t") and key:  # continuation line of a long value (wrapped at any character)
            fields[key] += raw[1:]
            continue
        name, sep, value = raw.lstrip().partition(" = ")
        if sep:
            key = name
            fields[key] = value
    state = fields.get("job_state", "U")
    raw_exit = fields.get("Exit_status", fields.get("exit_status"))
    exit_code = signal = None
    if raw_exit is not None and re.fullmatch(r"-?\d+", raw_exit):
        value = int(raw_exit)
        if value > 256:  # PBS: 256 + signal number for a job killed by a signal
            exit_code, signal = value, value - 256
        else:
            exit_code = value
    fields = {k: v.strip() for k, v in fields.items()}
    reason = fields.get("comment", "")
    if exit_code is not None and exit_code < 0:
        reason = reason or f"PBS could not run the job (JOB_EXEC code {exit_code})"
    finished = state in PBS_FINISHED
    return JobState(state=state, finished=finished, reason=reason, exit_code=exit_code, signal=signal,
                    ok=finished and exit_code == 0)


# ---- Fujitsu PJM --------------------------------------------------------------------------------
#: pjstat ST codes after which the job never runs again.
PJM_FINISHED = {"EXT", "CCL", "ERR", "RJT"}
PJM_WHY = {"CCL": "cancelled", "ERR": "ended in error", "RJT": "rejected"}


def parse_pjstat(text: str) -> JobState | None:
    """The state of the job in ``pjstat -H --data --choose jid,st,ec,pc,rsn JOBID`` output (CSV with
    a header line: JOB_ID,ST,EC,PC,REASON)."""
    lines = [line for line in text.splitlines() if line.strip()]
    header_at = next((i for i, line in enumerate(lines) if "JOB_ID" in line.upper()), None)
    if header_at is None or header_at + 1 >= len(lines):
        return None
    header = [h.strip().upper() for h in lines[header_at].split(",")]
    values = [v.strip() for v in lines[header_at + 1].split(",")]
    row = dict(zip(header, values))
    state = row.get("ST", "UNKNOWN")
    code = row.get("EC", "")
    reason = row.get("REASON", "") or row.get("RSN", "")
    reason = "" if reason == "-" else reason
    if row.get("PC", "0") not in ("", "0", "-"):  # PJM end code: the job was stopped by the system
        reason = reason or f"PJM end code {row['PC']}"
    exit_code = int(code) if re.fullmatch(r"-?\d+", code) else None
    return JobState(state=state, finished=state in PJM_FINISHED, reason=reason, exit_code=exit_code,
                    ok=state == "EXT" and exit_code == 0)
