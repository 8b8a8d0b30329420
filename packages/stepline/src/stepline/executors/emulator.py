"""The emulator executor: traverses here, and runs every leaf step as a separate
``stepline execute-single-node`` process — the exact code path containers, Slurm, Argo and
Step Functions use — so the remote path can be tested on one machine."""

from __future__ import annotations

from typing import ClassVar

from stepline.component import Locality
from stepline.executors.local import LocalSettings
from stepline.executors.step_process import StepProcessExecutor


class EmulatorSettings(LocalSettings):
    pass


class EmulatorExecutor(StepProcessExecutor):
    name: ClassVar[str] = "emulator"
    runs_steps_in: ClassVar[Locality] = Locality.MACHINE
    Settings: ClassVar[type] = EmulatorSettings
