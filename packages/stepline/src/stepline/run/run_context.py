"""The run context: everything a run (or one step of it) needs, built once per process."""

from __future__ import annotations

import secrets as _random
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from stepline.runlog.models import CodeIdentity

if TYPE_CHECKING:
    from stepline.pipeline.graph import Graph
    from stepline.run.services import Services


def new_run_id() -> str:
    """Time-ordered and collision-free: UTC second, then 40 random bits."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + _random.token_hex(5)


@dataclass
class RunContext:
    run_id: str
    graph: Graph
    services: Services
    pipeline_file: str = ""
    config_file: str | None = None
    tag: str = ""
    quiet: bool = False
    _secret_values: dict[str, str] = field(default_factory=dict)
    #: Effective parameters of scopes that cannot change right now: a composite's own scope while
    #: its branches run (branches write only their own overlays). Forked workers inherit it.
    frozen_parameters: dict[str, dict] = field(default_factory=dict)
    #: A re-run: the run it continues, and that run's succeeded leaf steps by internal name
    #: (skipped here, see stepline.executors.skip_from_original).
    original_run_id: str = ""
    original_steps: dict = field(default_factory=dict)
    #: Called as ``observe(run, internal_name, node, status, seconds)`` after each step (leaf or composite)
    #: ends, in the process that ran it (forked workers included).
    step_observers: list = field(default_factory=list)

    @property
    def executor(self):
        return self.services.executor

    @property
    def store(self):
        return self.services.run_log_store

    @property
    def catalog(self):
        return self.services.catalog

    def secret(self, name: str) -> str:
        """A secret's value, read once per run."""
        if name not in self._secret_values:
            self._secret_values[name] = self.services.secrets.get(name)
        return self._secret_values[name]

    def parameters(self, branch: str = "") -> dict:
        """The parameters a step in ``branch`` sees (see RunLogStore.get_parameters)."""
        from stepline.runlog.base import branch_scopes

        scopes = branch_scopes(branch)
        for depth in range(len(scopes), -1, -1):
            scope = scopes[depth - 1] if depth else ""
            if scope in self.frozen_parameters:
                found = dict(self.frozen_parameters[scope])
                for inner in scopes[depth:]:
                    log = self.store.get_branch_log(self.run_id, inner)
                    if log:
                        found.update(log.parameters)
                return found
        return self.store.get_parameters(self.run_id, branch)

    @cached_property
    def state_paths(self) -> tuple[str, ...]:
        """What the run's services keep on this machine (``Component.local_paths()``: a run log folder,
        a catalog's folder, a ``.env`` file), which a catalog put leaves out."""
        return tuple(path for service in self.services.services() for path in service.local_paths())

    @cached_property
    def code_identity(self) -> CodeIdentity | None:
        return git_identity()


def git_identity() -> CodeIdentity | None:
    """The git commit, dirty flag and remote of the working directory; None outside a repo (or in
    one with no commit yet). Two git processes in a repository; none where git could not find one."""
    if not _git_may_find_a_repository():
        return None
    import subprocess  # here: where git could find no repository, nothing has to import it

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    # the commit and whether tracked files changed, in one call
    status = git("status", "--porcelain=v2", "--branch", "--no-ahead-behind", "--untracked-files=no")
    lines = (status or "").splitlines()
    commit = next((line.split()[2] for line in lines if line.startswith("# branch.oid ")), None)
    if not commit or commit == "(initial)":
        return None
    dirty = any(not line.startswith("#") for line in lines)
    return CodeIdentity(code_identifier=commit, code_identifier_type="git", code_identifier_dependable=not dirty,
                        code_identifier_url=git("config", "--get", "remote.origin.url") or None,
                        code_identifier_message="changes not committed" if dirty else "")


def _git_may_find_a_repository() -> bool:
    """False only where git would find no repository either: ``GIT_DIR`` is not set and neither
    the working directory nor any folder above it holds a ``.git`` entry."""
    import os
    from pathlib import Path

    if os.environ.get("GIT_DIR"):
        return True
    here = Path.cwd()
    return any(os.path.lexists(folder / ".git") for folder in (here, *here.parents))
