"""The typed job spec and the rendering of a batch script from it (pure functions).

One spec, three dialects: ``#SBATCH`` (Slurm), ``#PBS`` (PBS Pro / OpenPBS / Torque) and ``#PJM``
(Fujitsu Technical Computing Suite). Every value from the spec is shell-quoted with
:func:`shlex.quote`; ``setup`` lines are the user's own shell and are written as given.
"""

from __future__ import annotations

import re
import shlex
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Dialect = Literal["slurm", "pbs", "pjm"]


class JobSpec(BaseModel):
    """What every job asks the scheduler for. The executor's ``config:`` holds the defaults; a
    step's ``overrides: {slurm: {...}}`` (or ``pbs``/``pjsub``) replaces single fields."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    partition: str | None = Field(None, description="Slurm partition; PBS queue (-q); PJM resource group (rscgrp)")
    account: str | None = Field(None, description="account/project to charge (PJM: group, -g)")
    time: str | None = Field(None, description="wall-clock limit, [D-]HH:MM:SS")
    nodes: int | None = Field(None, ge=1)
    cpus_per_task: int | None = Field(None, ge=1)
    mem: str | None = Field(None, description="memory per node, e.g. 4G")
    gres: str | None = Field(None, description="generic resources, e.g. gpu:1 (Slurm only)")
    modules: list[str] = Field(default_factory=list, description="`module load` each, in order")
    setup: list[str] = Field(default_factory=list, description="shell lines run before the step (verbatim)")
    env: dict[str, str] = Field(default_factory=dict, description="variables exported in the job")
    extra_directives: list[str] = Field(default_factory=list,
                                        description="more directive lines, without the #SBATCH/#PBS/#PJM prefix")


_PREFIX = {"slurm": "#SBATCH", "pbs": "#PBS", "pjm": "#PJM"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def job_name(text: str, dialect: Dialect) -> str:
    """A job name every scheduler accepts (PBS: at most 15 characters, starting with a letter)."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", text) or "stepline"
    if dialect == "pbs":
        name = ("s" + name if not name[0].isalpha() else name)[:15]
    return name[:64]


def directives(spec: JobSpec, dialect: Dialect, name: str, output: str) -> list[str]:
    """The scheduler directive lines for ``spec`` (values quoted)."""
    q = shlex.quote
    lines: list[tuple[str, ...]] = []
    if dialect == "slurm":
        lines += [(f"--job-name={q(name)}",), (f"--output={q(output)}",)]
        for field, flag in (("partition", "partition"), ("account", "account"), ("time", "time"),
                            ("nodes", "nodes"), ("cpus_per_task", "cpus-per-task"), ("mem", "mem"),
                            ("gres", "gres")):
            value = getattr(spec, field)
            if value is not None:
                lines.append((f"--{flag}={q(str(value))}",))
    elif dialect == "pbs":
        lines += [("-N", q(name)), ("-o", q(output)), ("-j", "oe")]
        if spec.partition:
            lines.append(("-q", q(spec.partition)))
        if spec.account:
            lines.append(("-A", q(spec.account)))
        if spec.time:
            lines.append(("-l", q(f"walltime={spec.time}")))
        select = [f"select={spec.nodes or 1}"]
        if spec.cpus_per_task:
            select.append(f"ncpus={spec.cpus_per_task}")
        if spec.mem:
            select.append(f"mem={spec.mem}")
        if len(select) > 1 or spec.nodes:
            lines.append(("-l", q(":".join(select))))
    else:  # pjm
        lines += [("-N", q(name)), ("-o", q(output)), ("-j",)]
        if spec.partition:
            lines.append(("-L", q(f"rscgrp={spec.partition}")))
        if spec.account:
            lines.append(("-g", q(spec.account)))
        if spec.time:
            lines.append(("-L", q(f"elapse={spec.time}")))
        if spec.nodes:
            lines.append(("-L", q(f"node={spec.nodes}")))
        if spec.cpus_per_task:
            lines.append(("-L", q(f"vnode-core={spec.cpus_per_task}")))
        if spec.mem:
            lines.append(("-L", q(f"node-mem={spec.mem}")))
    prefix = _PREFIX[dialect]
    out = [f"{prefix} {' '.join(parts)}" for parts in lines]
    out += [f"{prefix} {line}" for line in spec.extra_directives]
    return out


def render_script(spec: JobSpec, dialect: Dialect, *, name: str, output: str, workdir: str,
                  command: list[str], env: dict[str, str] | None = None) -> str:
    """The whole batch script: directives, modules, setup, environment, then ``exec`` the step."""
    q = shlex.quote
    lines = ["#!/bin/bash", *directives(spec, dialect, name, output),
             "# rendered by stepline; runs one step with `stepline execute-single-node`"]
    lines += [f"module load {q(module)}" for module in spec.modules]
    lines += list(spec.setup)
    for key, value in {**spec.env, **(env or {})}.items():
        lines.append(f"export {key}={q(value)}")
    lines.append(f"cd {q(workdir)}")
    lines.append(f"exec {shlex.join(command)}")
    return "\n".join(lines) + "\n"


def check_env_names(spec: JobSpec) -> str | None:
    for key in spec.env:
        if not _ENV_NAME.match(key):
            return f"env name {key!r} is not a shell variable name"
    return None
