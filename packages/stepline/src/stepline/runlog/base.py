"""The run log store contract.

A store keeps a run as independent *records* — the run itself, its parameters, one record per step
log and one per branch log — so that recording a step is O(1) work and concurrent writers never
rewrite each other's data. Backends implement five primitives over JSON text; this base assembles
the nested :class:`RunLog` users see. A branch's record may also carry the step log of the node the
branch ended in (one write for both), and a branch may write its record only when it ends: its steps
recorded before then show under it as PROCESSING.
"""

from __future__ import annotations

import abc
import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from stepline.component import Component, Locality
from stepline.errors import RunNotFoundError
from stepline.paths import check_run_id
from stepline.runlog.models import BranchLog, Parameter, RunLog, Status, StepLog

if TYPE_CHECKING:  # listing runs is not what most processes do: its models load on first use
    from stepline.runlog.listing import RunPage, RunQuery, RunSummary

RUN_KEY = "run"
PARAMS_KEY = "params"
STEP_PREFIX = "step/"
BRANCH_PREFIX = "branch/"


def branch_scopes(branch: str) -> list[str]:
    """'fan.2.fork.left' -> ['fan.2', 'fan.2.fork.left']: each enclosing branch, outermost first."""
    parts = branch.split(".") if branch else []
    return [".".join(parts[: i + 2]) for i in range(0, len(parts) - 1, 2)]


def parent_of(internal_name: str) -> str:
    """The internal name a step or branch is nested under ('' at the top)."""
    return internal_name.rpartition(".")[0]


class RunLogStore(Component, abc.ABC):
    kind: ClassVar[str] = "run_log_store"
    #: Whether many threads or processes may write records of one run at once.
    supports_concurrent_writes: ClassVar[bool] = True

    @property
    def locality(self) -> Locality:
        """Who can read what this store writes; checked against the executor before a run."""
        return Locality.MACHINE

    # ---- primitives a backend implements -------------------------------------------------------
    @abc.abstractmethod
    def _create(self, run_id: str, records: dict[str, str]) -> None:
        """Create a run with its first records; raise FileExistsError if the run exists."""

    @abc.abstractmethod
    def _write(self, run_id: str, key: str, text: str) -> None:
        """Replace one record atomically."""

    def _write_once(self, run_id: str, key: str, text: str) -> None:
        """Record ``key``, which is written only this once and read back only once written: the log of a
        sealed branch (see :meth:`put_branch_log`'s ``once``). A store that can keep such records more
        cheaply together overrides it (chunked-fs appends them to one file per process); :meth:`_read`
        and :meth:`_read_all` must see what it keeps, and a record of the same key written with
        :meth:`_write` wins over it. The default writes it like any other record."""
        self._write(run_id, key, text)

    @abc.abstractmethod
    def _read(self, run_id: str, key: str) -> str | None:
        """One record, or None when absent (the run itself may be absent too)."""

    @abc.abstractmethod
    def _read_all(self, run_id: str) -> dict[str, str] | None:
        """Every record of a run, or None when the run does not exist."""

    @abc.abstractmethod
    def _run_ids(self) -> list[str]:
        """Every run id the store holds."""

    # ---- the public API used by executors and the CLI ------------------------------------------
    def create_run_log(self, run_log: RunLog) -> None:
        """Record a new run. Raises :class:`StepLineError` when the run id is taken."""
        from stepline.errors import StepLineError

        check_run_id(run_log.run_id)
        records = {RUN_KEY: _run_record(run_log), PARAMS_KEY: _params_text(run_log.parameters)}
        try:
            self._create(run_log.run_id, records)
        except FileExistsError:
            raise StepLineError(f"run id '{run_log.run_id}' is already used",
                                hint="pick another --run-id or leave it out") from None

    def get_run(self, run_id: str) -> RunLog:
        """The run's own fields and parameters, without step logs (cheap)."""
        text = self._read(check_run_id(run_id), RUN_KEY)
        if text is None:
            raise RunNotFoundError(f"no run '{run_id}' in the {self.name} run log store",
                                   hint="see `stepline runs list`")
        run = RunLog.model_validate_json(text)
        run.parameters = self.get_parameters(run_id)
        return run

    def update_run(self, run_id: str, **fields: object) -> RunLog:
        """Change run-level fields (status, end_time, message). Only the traversing process calls it."""
        run = self.get_run(run_id)
        updated = run.model_copy(update=fields)
        self._write(run_id, RUN_KEY, _run_record(updated))
        return updated

    def get_run_log(self, run_id: str, *, top_level: bool = False) -> RunLog:
        """The whole run, with step and branch logs nested as users see them. ``top_level``: only the
        pipeline's own steps, without their branches (what a run's summary shows; a map of many
        items is then not read)."""
        check_run_id(run_id)
        records = self._read_top_level(run_id) if top_level else self._read_all(run_id)
        if records is None or RUN_KEY not in records:
            raise RunNotFoundError(f"no run '{run_id}' in the {self.name} run log store",
                                   hint="see `stepline runs list`")
        return assemble(records, top_level=top_level)

    def _read_top_level(self, run_id: str) -> dict[str, str] | None:
        """At least the run's own records and those of its top-level steps (see :func:`top_level_key`);
        a store that can read only those overrides it."""
        return self._read_all(run_id)

    def get_parameters(self, run_id: str, branch: str = "") -> dict[str, Parameter]:
        """The parameters a step in ``branch`` sees: the run's, overlaid by those set in each
        enclosing branch (a map variable, values returned inside the branch), innermost last."""
        text = self._read(run_id, PARAMS_KEY)
        parameters = _params_from_text(text) if text else {}
        for scope in branch_scopes(branch):
            found = self.get_branch_log(run_id, scope)
            if found:
                parameters.update(found.parameters)
        return parameters

    def update_parameters(self, run_id: str, changes: dict[str, Parameter], branch: str = "") -> None:
        """Set ``changes`` in the scope's own parameters (the run's, or the branch's overlay)."""
        if not changes:
            return
        if branch:
            found = self.get_branch_log(run_id, branch) or BranchLog(internal_name=branch)
            found.parameters.update(changes)
            self.put_branch_log(run_id, found)
        else:
            text = self._read(run_id, PARAMS_KEY)
            self._write(run_id, PARAMS_KEY, _params_text({**(_params_from_text(text) if text else {}), **changes}))

    def set_parameters(self, run_id: str, parameters: dict[str, Parameter], branch: str = "") -> None:
        """Replace the scope's own parameters (the run's, or the branch's overlay)."""
        if branch:
            found = self.get_branch_log(run_id, branch) or BranchLog(internal_name=branch)
            found.parameters = dict(parameters)
            self.put_branch_log(run_id, found)
        else:
            self._write(run_id, PARAMS_KEY, _params_text(parameters))

    def get_step_log(self, run_id: str, internal_name: str) -> StepLog | None:
        """One step log, without its branches."""
        text = self._read(run_id, STEP_PREFIX + internal_name)
        return StepLog.model_validate_json(text) if text else None

    def put_step_log(self, run_id: str, step_log: StepLog) -> None:
        self._write(run_id, STEP_PREFIX + step_log.internal_name,
                    step_log.model_dump_json(exclude={"branches"}))

    def get_branch_log(self, run_id: str, internal_name: str) -> BranchLog | None:
        """One branch log, without its steps (those written with it included)."""
        text = self._read(run_id, BRANCH_PREFIX + internal_name)
        if not text:
            return None
        found = BranchLog.model_validate_json(text)
        found.steps = {}
        return found

    def put_branch_log(self, run_id: str, branch_log: BranchLog, with_steps: Sequence[StepLog] = (), *,
                       once: bool = False) -> None:
        """Record a branch log (never its ``steps``). ``with_steps``: step logs of the branch recorded
        in the same write (the terminal node a branch ended in, and the leaf that led to it), which the
        whole run log shows as if each had its own record, over any record of their own (the start of
        an attempt that ran on); :meth:`get_step_log` does not see them. ``once``: the branch's only
        record, written when it ends (a sealed branch), which the store may keep with others of its
        kind (see :meth:`_write_once`); a later write of the same branch without ``once`` replaces it."""
        if with_steps:
            steps = {s.internal_name: s for s in with_steps}
            text = branch_log.model_copy(update={"steps": steps}).model_dump_json(
                exclude={"steps": {"__all__": {"branches"}}})
        else:
            text = branch_log.model_dump_json(exclude={"steps"})
        (self._write_once if once else self._write)(run_id, BRANCH_PREFIX + branch_log.internal_name, text)

    def list_runs(self) -> list[RunLog]:
        """Every run's own fields (no step logs), oldest first."""
        runs = []
        for run_id in self._run_ids():
            text = self._read(run_id, RUN_KEY)
            if text:
                runs.append(RunLog.model_validate_json(text))
        return sorted(runs, key=lambda r: (r.start_time, r.run_id))

    def run_summaries(self) -> list[RunSummary]:
        """Every run's summary, in no particular order: the listing primitive.

        The default parses each run's own record (never a step log); a store with a cheaper way to
        read them all at once overrides it.
        """
        from stepline.runlog.listing import RunSummary

        found = []
        for run_id in self._run_ids():
            text = self._read(run_id, RUN_KEY)
            if text:
                found.append(RunSummary.model_validate_json(text))
        return found

    def query_runs(self, query: RunQuery | None = None) -> RunPage:
        """One page of the runs that match ``query`` (status, tag, start-time bounds), newest first
        by default, with the number that matched in all. A store that can filter and order where
        the runs live (an index, a database query) overrides it."""
        from stepline.runlog.listing import RunQuery, page_of

        return page_of(self.run_summaries(), query or RunQuery())

    def run_exists(self, run_id: str) -> bool:
        return self._read(check_run_id(run_id), RUN_KEY) is not None


def _run_record(run_log: RunLog) -> str:
    return run_log.model_dump_json(exclude={"steps", "parameters"})


def _params_text(parameters: dict[str, Parameter]) -> str:
    return "{" + ",".join(f"{_json_str(k)}:{v.model_dump_json()}" for k, v in parameters.items()) + "}"


def _json_str(value: str) -> str:
    return json.dumps(value)


def _params_from_text(text: str) -> dict[str, Parameter]:
    return {k: Parameter.model_validate(v) for k, v in json.loads(text).items()}


def _step_order(step: StepLog) -> tuple[str, str]:
    return (step.attempts[0].start_time if step.attempts else "~", step.internal_name)


def _natural(name: str) -> list[object]:
    """Sort key that puts 'fan.2' before 'fan.10'."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def top_level_key(key: str) -> bool:
    """Whether record ``key`` may be the run's own or a top-level step's (a hashed long name may)."""
    if not key.startswith(STEP_PREFIX):
        return key in (RUN_KEY, PARAMS_KEY)
    return "." not in key or "~" in key


def assemble(records: dict[str, str], *, top_level: bool = False) -> RunLog:
    """Nest flat records into a RunLog: steps under branches under steps, by dotted names.
    ``top_level``: only the top-level steps, without their branches."""
    run = RunLog.model_validate_json(records[RUN_KEY])
    if PARAMS_KEY in records:
        run.parameters = _params_from_text(records[PARAMS_KEY])
    if top_level:
        found = (StepLog.model_validate_json(t) for k, t in records.items() if k.startswith(STEP_PREFIX)
                 and top_level_key(k))
        for step in sorted((s for s in found if not parent_of(s.internal_name)), key=_step_order):
            run.steps[step.internal_name] = step
        return run
    found = [BranchLog.model_validate_json(t) for k, t in records.items() if k.startswith(BRANCH_PREFIX)]
    branches = {branch.internal_name: branch for branch in found}  # a long name's key is only a hash
    step_by_name: dict[str, StepLog] = {s.internal_name: s for s in
                                        (StepLog.model_validate_json(t) for k, t in records.items()
                                         if k.startswith(STEP_PREFIX))}
    for branch in found:  # steps written with their branch's log (put_branch_log's with_steps): their
        step_by_name.update(branch.steps)  # final state, over a start record written while they ran
        branch.steps = {}
    steps = list(step_by_name.values())
    for step in steps:  # a branch whose log nothing needs before it ends records it only then
        parent = parent_of(step.internal_name)
        if parent and parent not in branches:
            branches[parent] = BranchLog(internal_name=parent, status=Status.PROCESSING)
    for name in sorted(branches, key=_natural):
        owner = step_by_name.get(parent_of(name))
        if owner is not None:
            owner.branches[name] = branches[name]
    for step in sorted(steps, key=_step_order):
        parent = parent_of(step.internal_name)
        if not parent:
            run.steps[step.internal_name] = step
        elif parent in branches:
            branches[parent].steps[step.internal_name] = step
    return run
