"""What ``Pipeline.execute()`` and ``Job.execute()`` do around a run, the way runnable's scripts
expect, so the same script runs on any executor without extra code:

- settings from the environment (each ``STEPLINE_*`` first, then ``RUNNABLE_*``): the
  configuration and parameters files override the arguments, the run id is used when none is
  given, and a retry run id makes the call a re-run of that run (as ``stepline retry``);
- the reference other processes rebuild the pipeline from is found when it is not given: the
  module-level function that called ``execute()`` (runnable's ``main()`` pattern), a module-level
  variable that holds the pipeline, or the module-level function that built it;
- a run that ends in FAIL raises :class:`~stepline.errors.ExecutionFailedError`.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from stepline.errors import ExecutionFailedError, PipelineDefinitionError, StepLineError

if TYPE_CHECKING:
    from stepline.pipeline.graph import Graph
    from stepline.runlog.models import RunLog

PARAMETERS_FILE_VARS = ("STEPLINE_PARAMETERS_FILE", "RUNNABLE_PARAMETERS_FILE")
RUN_ID_VARS = ("STEPLINE_RUN_ID", "RUNNABLE_RUN_ID")
RETRY_RUN_ID_VARS = ("STEPLINE_RETRY_RUN_ID", "RUNNABLE_RETRY_RUN_ID")
#: Frames in these folders are Stepline's own, not the script's.
_PACKAGE = str(Path(__file__).resolve().parent.parent) + os.sep


def from_environment(names: tuple[str, ...]) -> str | None:
    """The first of ``names`` set (non-empty) in the environment."""
    return next((os.environ[name] for name in names if os.environ.get(name)), None)


@dataclass(frozen=True)
class Origin:
    """Where a script's code stands in a frame: its file, function and module globals."""

    file: str
    function: str
    code: Any
    namespace: dict

    @classmethod
    def of(cls, frame: FrameType | None) -> Origin | None:
        while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
            frame = frame.f_back
        if frame is None:
            return None
        return cls(frame.f_code.co_filename, frame.f_code.co_name, frame.f_code, frame.f_globals)

    @classmethod
    def of_caller(cls) -> Origin | None:
        """The first frame above Stepline's own (who is building a Pipeline or a job)."""
        return cls.of(sys._getframe(1))

    def reference(self, attribute: str) -> str | None:
        """``attribute`` of this frame's module as a reference another process can load."""
        name = self.namespace.get("__name__")
        if name != "__main__":
            return f"{name}:{attribute}" if name else None
        spec = self.namespace.get("__spec__")
        if spec is not None and spec.name and spec.name != "__main__":  # python -m pkg.script
            return f"{spec.name}:{attribute}"
        file = Path(self.file)
        if file.suffix != ".py" or not file.is_file():
            return None  # an interactive session or notebook: nothing to import
        try:
            return f"{file.resolve().relative_to(Path.cwd().resolve())}:{attribute}"
        except ValueError:
            return f"{file.resolve()}:{attribute}"

    def function_reference(self) -> str | None:
        """This frame's function, when it is a module-level function of its module that can be
        called without arguments."""
        import inspect

        found = self.namespace.get(self.function)
        if getattr(found, "__code__", None) is not self.code:
            return None
        try:
            inspect.signature(found).bind()
        except TypeError:
            return None
        return self.reference(self.function)

    def variable_reference(self, target: Any) -> str | None:
        """The module-level variable that holds ``target``."""
        name = next((k for k, v in list(self.namespace.items()) if v is target and not k.startswith("_")), None)
        return self.reference(name) if name else None


def candidates(target: Any, caller: Origin | None) -> list[str]:
    """References that may rebuild ``target``, most likely first."""
    built = getattr(target, "_origin", None)
    found = [caller.function_reference() if caller else None,
             caller.variable_reference(target) if caller else None,
             built.function_reference() if built else None]
    return list(dict.fromkeys(ref for ref in found if ref))


def find_reference(target: Any, caller: Origin | None, graph, executor: str) -> str:
    """The first candidate that loads the very graph being run, or a one-line error with the fix."""
    from stepline.run.prepare import same_graph

    tried = []
    for reference in candidates(target, caller):
        try:
            if same_graph(reference, graph):
                return reference
            tried.append(f"{reference} builds another pipeline")
        except StepLineError as exc:
            tried.append(str(exc))
    why = f" ({'; '.join(tried)})" if tried else ""
    raise PipelineDefinitionError(
        f"the {executor} executor runs steps in other processes, which rebuild the pipeline, and where it "
        f"is built could not be found{why}",
        hint="build it in a module-level function that calls execute() and returns it (def main(): ... "
             "pipeline.execute(); return pipeline), keep it in a module-level variable, or pass "
             "execute(reference='path/to/file.py:attribute')")


def execute_sdk(target: Any, frame: FrameType, *, configuration_file: str | None, run_id: str | None, tag: str,
                parameters_file: str | None, log_level: str | int | None, reference: str | None,
                quiet: bool) -> RunLog | None:
    """Run ``target`` (a Pipeline or a job) for a script; see the module's docstring."""
    from stepline.config.loader import CONFIG_ENV_VARS
    from stepline.pipeline.reference import loading_reference

    if loading_reference():  # another process is rebuilding the pipeline: only build it
        return None
    if log_level is not None:
        logging.getLogger("stepline").setLevel(log_level)
    caller = Origin.of(frame)
    del frame
    try:
        graph = target.graph()
        run_log = run_graph(graph, reference=reference or None,
                            configuration_file=from_environment(CONFIG_ENV_VARS) or configuration_file or None,
                            parameters_file=from_environment(PARAMETERS_FILE_VARS) or parameters_file or None,
                            run_id=run_id or from_environment(RUN_ID_VARS), tag=tag or "", quiet=quiet,
                            find_reference=lambda executor: find_reference(target, caller, graph, executor),
                            retry_of=from_environment(RETRY_RUN_ID_VARS))
        if run_log is not None and run_log.status.value != "SUCCESS":
            raise failed(run_log)
    except StepLineError:
        one_line_if_uncaught()
        raise
    return run_log


def run_graph(graph: Graph, *, reference: str | None, configuration_file: str | None, parameters_file: str | None,
              run_id: str | None, tag: str, quiet: bool, find_reference: Callable[[str], str] | None = None,
              retry_of: str | None = None) -> RunLog | None:
    """Run (or render) a graph built in Python through the run layer (shared by pipelines and jobs);
    print its summary. ``find_reference(executor_name)`` is asked for the reference when none is given
    and the executor needs one; ``retry_of`` makes the run a re-run of that run (as ``stepline retry``)."""
    from stepline.cli.summary import summary
    from stepline.run.execute import execute, render
    from stepline.run.prepare import prepare_graph

    source, prepared = prepare_graph(graph, reference, configuration_file, find_reference)
    executor = prepared.services.executor
    for message in prepared.warnings:
        print(f"warning: {message}", file=sys.stderr)
    if executor.renders:
        if retry_of:
            from stepline.errors import NotSupportedError

            raise NotSupportedError(f"a re-run (retry of run '{retry_of}') with the {executor.name} executor, "
                                    "which renders the pipeline for another engine",
                                    hint="re-run with an executor that traverses the graph: local, emulator, ...")
        written = render(source, configuration_file, parameters_file, prepared=prepared)
        print(f"rendered {source} with the {executor.name} executor to {written}", file=sys.stderr)
        return None
    run_log = execute(source, configuration_file, parameters_file, run_id, tag, quiet=quiet, prepared=prepared,
                      retry_of=retry_of)
    if not quiet:
        described = prepared.services.run_log_store.describe()
        config = described.get("config") or {}
        place = config.get("log_folder") or config.get("location") or config.get("url") or "memory"
        print(summary(run_log, f"{place} ({described['type']})"), file=sys.stderr)
    return run_log


def one_line_if_uncaught() -> None:
    """A StepLineError that reaches the top of a script is printed as its one line, not a
    traceback (the script exits 1 as with any uncaught exception). Only Python's own hook is
    replaced: IPython's, a debugger's or the user's stay as they are."""
    if sys.excepthook is not sys.__excepthook__:
        return

    def hook(kind, value, traceback) -> None:
        if isinstance(value, StepLineError):
            print(f"error: {value}", file=sys.stderr)
        else:
            sys.__excepthook__(kind, value, traceback)

    sys.excepthook = hook


def failed(run_log: RunLog) -> ExecutionFailedError:
    """The error for a run that ended in FAIL, naming the first step that failed."""
    from stepline.runlog.flatten import flat_steps

    step = next((s for s in flat_steps(run_log).values()
                 if s.status.value == "FAIL" and s.step_type not in ("fail", "success") and not s.branches), None)
    why = f": step '{step.internal_name}' failed: {step.message}" if step is not None and step.message else ""
    return ExecutionFailedError(run_log.run_id, run_log, f"run '{run_log.run_id}' ended in {run_log.status.value}{why}",
                                hint=f"see `stepline runs show {run_log.run_id}`; re-run what failed with "
                                     f"STEPLINE_RETRY_RUN_ID={run_log.run_id}")

