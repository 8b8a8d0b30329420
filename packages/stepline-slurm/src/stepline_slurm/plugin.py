"""Hook implementations of stepline-slurm. Importing this module imports nothing heavy."""

from __future__ import annotations

from stepline.api import hookimpl


@hookimpl
def stepline_components():
    from stepline_slurm.executor import PBSExecutor, PJSubExecutor, SlurmExecutor

    return [SlurmExecutor, PBSExecutor, PJSubExecutor]
