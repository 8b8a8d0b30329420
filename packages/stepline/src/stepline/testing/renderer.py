"""The renderer contract, as a pytest suite an orchestration executor package subclasses.

Usage, in a renderer package's tests::

    from stepline.testing.renderer import RendererContract

    class TestMyRenderer(RendererContract):
        @pytest.fixture
        def executor_config(self):
            return {"type": "my-orchestrator", "config": {"image": "registry.example/app:1"}}

        def check_rendered(self, text, folder):
            MyWorkflowModel.model_validate(yaml.safe_load(text))  # the orchestrator's own schema

The contract, checked through ``stepline execute`` as a user renders:

- each standard pipeline of :mod:`stepline.testing.standard` renders (exit 0, the file named on
  stderr is written) into text that :meth:`RendererContract.check_rendered` accepts, and that holds
  no secret value;
- rendering twice gives the same bytes (no random names, no timestamps);
- every node type is rendered (and the text passes ``check_rendered``) or refused with a
  :class:`~stepline.errors.NotSupportedError` (exit 2, one line, no file written): never a broken
  workflow.

Override ``services_config`` for the run log store, catalog and secrets the rendered steps reach
(a renderer's steps run elsewhere, so the integration checks refuse this machine's files), and
``kit_env`` for the environment of the ``stepline`` command.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from stepline.testing import standard
from stepline.testing.cli import stepline
from stepline.testing.executor import KitFixtures, write_config

_WRITTEN = re.compile(r"^rendered .* to (?P<path>.+)$", re.MULTILINE)


class RendererContract(KitFixtures):
    """Behaviour every executor that renders a workflow must have. Override ``executor_config``."""

    timeout: float = 120

    def check_rendered(self, text: str, folder: Path) -> None:
        """Check the rendered workflow against the orchestrator's own schema; raise (or assert) if it
        is not valid. The default checks only that there is something."""
        assert text.strip(), "the rendered workflow is empty"

    def render(self, folder: Path, executor_config, services_config, env) -> tuple[Any, Path | None]:
        """``stepline execute`` in ``folder``; the command's result and the file it wrote."""
        config = write_config(folder, {**standard.SERVICES, **services_config, "executor": executor_config})
        done = stepline("--debug", "execute", "pipeline.yaml", "-c", config, "-p", "params.yaml", cwd=folder,
                        env=env, timeout=self.timeout)
        found = _WRITTEN.search(done.stderr)
        return done, (folder / found["path"].strip()) if found else None

    @pytest.mark.parametrize("pipeline", standard.PIPELINES)
    def test_a_standard_pipeline_renders_a_valid_workflow_without_secrets(self, pipeline, executor_config,
                                                                          services_config, kit_env, tmp_path):
        folder = standard.write_pipeline(pipeline, tmp_path / pipeline)
        done, written = self.render(folder, executor_config, services_config, kit_env)
        assert done.returncode == 0, done.stderr
        assert written is not None and written.is_file(), f"no rendered file named on stderr: {done.stderr}"
        text = written.read_text()
        self.check_rendered(text, folder)
        assert standard.SECRET_VALUE not in text

    def test_rendering_twice_gives_the_same_bytes(self, executor_config, services_config, kit_env, tmp_path):
        folder = standard.write_pipeline("shapes", tmp_path / "shapes")
        first_done, first = self.render(folder, executor_config, services_config, kit_env)
        assert first_done.returncode == 0, first_done.stderr
        before = first.read_bytes()
        first.unlink()
        again_done, again = self.render(folder, executor_config, services_config, kit_env)
        assert again_done.returncode == 0, again_done.stderr
        assert again.read_bytes() == before

    @pytest.mark.parametrize("node_type", sorted(standard.NODE_PIPELINES))
    def test_every_node_type_is_rendered_or_refused_as_not_supported(self, node_type, executor_config,
                                                                     services_config, kit_env, tmp_path):
        folder = standard.write_node_pipeline(node_type, tmp_path / node_type)
        before = set(folder.rglob("*"))
        done, written = self.render(folder, executor_config, services_config, kit_env)
        if done.returncode == 0:
            assert written is not None and written.is_file(), done.stderr
            self.check_rendered(written.read_text(), folder)
            return
        assert done.returncode == 2, done.stderr
        assert "stepline.errors.NotSupportedError" in done.stderr, f"refused, but not as not supported: {done.stderr}"
        last = done.stderr.strip().splitlines()[-1]
        assert last.startswith("error: ") and node_type in last, f"not one line naming the step type: {last}"
        new = {p for p in set(folder.rglob("*")) - before if ".stepline" not in p.parts and p.name != "config.yaml"}
        assert not new, f"a refused render left files behind: {sorted(map(str, new))}"
