"""The mocked executor: traverses the graph like ``local`` but does not run tasks — each task step is
recorded as succeeded with ``mock: true`` — except those named in ``patches``, which run a
replacement command instead. Tests a pipeline's shape, parameter flow and failure routing without
running the real work.

```yaml
executor:
  type: mocked
  config:
    patches:
      train: {command: "exit 1", command_type: shell}     # every step named train
      fan.*.square: {command: my_tests.fake_square}        # a glob over internal names
```
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field
from stepline.component import Locality
from stepline.executors.local import LocalExecutor, LocalSettings
from stepline.runlog.models import Status


class Patch(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    command: str
    #: The replacement's command type; the patched step's own when left out.
    command_type: str | None = None


class MockedSettings(LocalSettings):
    #: step name, full internal name (``fan.2.square``) or a glob over internal names -> replacement
    patches: dict[str, Patch] = Field(default_factory=dict)


class MockedExecutor(LocalExecutor):
    name: ClassVar[str] = "mocked"
    runs_steps_in: ClassVar[Locality] = Locality.PROCESS
    Settings: ClassVar[type] = MockedSettings

    def execute(self, run) -> Status:
        self.check_patches(run)
        return super().execute(run)

    def check_patches(self, run) -> None:
        """Every patch has an installed command type; one that names no task step of this pipeline
        is a warning (as in runnable, a configuration may patch steps of several pipelines)."""
        import sys

        from stepline.pipeline.graph import walk
        from stepline.plugins.manager import component_class

        tasks = [(path, node) for path, node in walk(run.graph) if node.type == "task"]
        names = {path.rpartition(".")[2] for path, _ in tasks}
        source = run.config_file or "the configuration"
        for key, patch in self.settings.patches.items():
            if key.rpartition(".")[2] not in names and not any(fnmatchcase(p, key) for p, _ in tasks):
                print(f"warning: {source}: executor 'mocked': patch '{key}' names no task step of this pipeline "
                      f"and is ignored (task steps: {', '.join(sorted(names)) or 'none'})", file=sys.stderr)
            if patch.command_type:
                component_class("task", patch.command_type, source=source)

    def patch_for(self, internal_name: str) -> Patch | None:
        name = internal_name.rpartition(".")[2]
        patches = self.settings.patches
        if internal_name in patches:
            return patches[internal_name]
        for key, patch in patches.items():
            if "." in key and fnmatchcase(internal_name, key):
                return patch
        return patches.get(name)

    def run_leaf(self, run, node, internal_name: str, branch: str) -> Status:
        from stepline.executors.step_context import execute_step, instant_attempt, new_step_log

        if node.type != "task":
            return execute_step(run, node, internal_name, branch=branch).status
        patch = self.patch_for(internal_name)
        if patch is not None:
            update = {"command": patch.command}
            if patch.command_type:
                update["command_type"] = patch.command_type
            return execute_step(run, node.model_copy(update=update), internal_name, branch=branch).status
        step = new_step_log(run, node, internal_name)
        step.status, step.mock, step.message = Status.SUCCESS, True, "mocked: not run"
        step.attempts = [instant_attempt(Status.SUCCESS)]
        run.store.put_step_log(run.run_id, step)
        return Status.SUCCESS
