"""Hook implementations of stepline-slurm. Importing this module imports nothing heavy."""

from __future__ import annotations

from stepline.api import LazyComponent, hookimpl


@hookimpl
def stepline_components():
    return [
        LazyComponent("executor", "slurm", "stepline_slurm.executor:SlurmExecutor"),
        LazyComponent("executor", "pbs", "stepline_slurm.executor:PBSExecutor"),
        LazyComponent("executor", "pjsub", "stepline_slurm.executor:PJSubExecutor"),
    ]
