"""The local executor: traverses the graph here; runs leaf steps in this process and branches of
parallel and map steps concurrently in forked worker processes (``max_workers`` at a time)."""

from __future__ import annotations

import os
import signal
import sys
from typing import ClassVar

from pydantic import Field
from stepline.component import Locality, Settings
from stepline.executors.base import Executor
from stepline.runlog.models import Status


class LocalSettings(Settings):
    max_workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    #: runnable's switch: false runs parallel, map and conditional branches one at a time.
    enable_parallel: bool = True
    #: runnable's switch: false keeps ``kind: object`` returns in this process's memory instead
    #: of pickling them into the catalog (only where every step runs in the traversing process).
    object_serialisation: bool = True


class LocalExecutor(Executor):
    name: ClassVar[str] = "local"
    runs_steps_in: ClassVar[Locality] = Locality.PROCESS
    Settings: ClassVar[type[Settings]] = LocalSettings

    def __init__(self, settings=None) -> None:
        super().__init__(settings)
        #: ``kind: object`` returns kept in memory (``object_serialisation: false``), by reference.
        self.kept_objects: dict[str, object] = {}

    @property
    def keeps_objects(self) -> bool:
        return not self.settings.object_serialisation

    @property
    def branch_workers(self) -> int:
        """How many branches may run at once (``enable_parallel: false`` means one)."""
        return self.settings.max_workers if self.settings.enable_parallel else 1

    def execute(self, run) -> Status:
        from stepline.executors.traversal import traverse

        return traverse(run, run.graph, self.run_node)

    def run_node(self, run, node, internal_name: str, branch: str) -> Status:
        """Composites fan out here; leaves go to :meth:`run_leaf`."""
        from stepline.executors.composite import run_composite

        if node.composite:
            return run_composite(run, node, internal_name, branch, self.run_branches)
        if run.original_steps:  # a re-run: steps that succeeded in the original are not run again
            from stepline.executors.skip_from_original import skip_from_original

            skipped = skip_from_original(run, node, internal_name, branch)
            if skipped is not None:
                return skipped
        named = getattr(node, "executor", None)  # `executor: NAME` on the step: that executor runs it
        if named and run.services.executors.get(named, self) is not self:
            return run.services.executors[named].run_leaf(run, node, internal_name, branch)
        return self.run_leaf(run, node, internal_name, branch)

    def run_leaf(self, run, node, internal_name: str, branch: str) -> Status:
        """Run one leaf step. Subclasses that run steps elsewhere (another process, a container, a
        batch job) override this: they start ``stepline execute-single-node`` there, wait for it,
        and return the status it recorded in the run log."""
        from stepline.executors.step_context import execute_step

        return execute_step(run, node, internal_name, branch=branch).status

    # ---- branches ----------------------------------------------------------------------------------
    def concurrency_blocker(self, run) -> str | None:
        """Why branches must run one at a time with these services, or None."""
        store = run.store
        if not store.supports_concurrent_writes:
            return f"the {store.name} run log store cannot take concurrent writers"
        if self.keeps_objects:
            return "object_serialisation: false keeps returned objects in this process"
        for service in run.services.services():
            if service.locality < Locality.MACHINE:
                return f"the {service.name} {service.kind.replace('_', ' ')} keeps its data in this process"
        return None

    def run_branches(self, run, branches) -> list:
        """Walk ``branches`` (:class:`~stepline.executors.composite.Branch`); their outcomes in order."""
        from stepline.executors.composite import run_branch

        workers = min(self.branch_workers, len(branches))
        in_worker = _in_worker()
        blocker = None if workers <= 1 or in_worker else self.concurrency_blocker(run)
        if blocker and not getattr(run, "_warned_sequential", False):
            run._warned_sequential = True
            print(f"warning: {blocker}; parallel and map branches run one at a time", file=sys.stderr)
        if workers <= 1 or in_worker or blocker or not hasattr(os, "fork"):
            return [run_branch(run, branch, self.run_node) for branch in branches]
        return self._run_in_pool(run, branches, workers)

    def _run_in_pool(self, run, branches, workers: int) -> list:
        from stepline.executors.composite import run_branch
        from stepline.executors.fork_pool import run_forked

        def run_one(item: int) -> tuple:
            status, overlay = run_branch(run, branches[item], self.run_node)
            return status.value, overlay

        def lost(item: int, reason: str) -> tuple:
            return _record_lost(run, branches[item], reason).value, None

        return [(Status(status), overlay) for status, overlay in run_forked(len(branches), workers, run_one, lost)]


def _in_worker() -> bool:
    """Whether this process is a worker of :mod:`~stepline.executors.fork_pool` (its branches' own
    branches run one after another); a process that never loaded the pool is none."""
    pool = sys.modules.get("stepline.executors.fork_pool")
    return pool is not None and pool.IN_WORKER


def _record_lost(run, branch, reason: str) -> Status:
    """The branch whose worker died while running it failed; say so on stderr and in its log."""
    from stepline.runlog.models import BranchLog

    print(f"error: branch '{branch.name}' failed: {reason}", file=sys.stderr)
    log = run.store.get_branch_log(run.run_id, branch.name) or BranchLog(
        internal_name=branch.name, parameters=dict(branch.parameters))
    log.status, log.message = Status.FAIL, reason
    run.store.put_branch_log(run.run_id, log)
    return Status.FAIL


def die_with_parent(parent: int | None = None) -> None:
    """Get SIGTERM when the parent process dies (even by SIGKILL), so an orphaned worker never keeps
    writing to a run that a re-run may already be continuing. Linux only; elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    parent = parent or os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)
