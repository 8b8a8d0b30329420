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

#: State a forked pool worker inherits: (executor, run, {branch internal name: Branch}).
_WORKER_STATE: tuple | None = None
_IN_WORKER = False


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
        blocker = None if workers <= 1 or _IN_WORKER else self.concurrency_blocker(run)
        if blocker and not getattr(run, "_warned_sequential", False):
            run._warned_sequential = True
            print(f"warning: {blocker}; parallel and map branches run one at a time", file=sys.stderr)
        if workers <= 1 or _IN_WORKER or blocker:
            return [run_branch(run, branch, self.run_node) for branch in branches]
        return self._run_in_pool(run, branches, workers)

    def _run_in_pool(self, run, branches, workers: int) -> list:
        import multiprocessing

        global _WORKER_STATE
        _WORKER_STATE = (self, run, {branch.name: branch for branch in branches})
        context = multiprocessing.get_context("fork")
        sys.stdout.flush()
        sys.stderr.flush()
        pool = context.Pool(workers, initializer=_worker_init, initargs=(os.getpid(),))
        try:
            chunk = max(1, min(64, len(branches) // (workers * 8)))
            outcomes = list(pool.imap(_worker_run, [branch.name for branch in branches], chunksize=chunk))
            pool.close()
        except BaseException:
            pool.terminate()
            raise
        finally:
            pool.join()
            _WORKER_STATE = None
        return [(Status(status), overlay) for status, overlay in outcomes]


def _worker_init(parent: int | None = None) -> None:
    global _IN_WORKER
    _IN_WORKER = True
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and terminates the pool

    def stop(signum, frame):
        from stepline.errors import Interrupted

        raise Interrupted(signum)  # unwinds through the task, which kills its child processes

    signal.signal(signal.SIGTERM, stop)


def _worker_run(name: str) -> tuple:
    from stepline.errors import Interrupted
    from stepline.executors.composite import run_branch

    executor, run, branches = _WORKER_STATE
    try:
        status, overlay = run_branch(run, branches[name], executor.run_node)
        return status.value, overlay
    except Interrupted as exc:  # the step logs say "interrupted"; leave without a traceback
        sys.stdout.flush()
        os._exit(128 + exc.signum)


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
