"""Notebook tasks: ``command`` is a .ipynb file (relative to the working folder), executed with
papermill in a fresh ipykernel (``pip install "stepline[notebook]"``).

- Parameters: every parameter the step sees is injected after the cell tagged ``parameters``
  (papermill's convention; at the top when there is none). JSON values become literals; objects
  (``kind: object``) are unpickled in the kernel from a private file.
- Returns: the notebook's variables named in ``returns``, read after the last cell through a
  private pickle file (a trailing cell that is not kept in the saved notebook).
- The executed notebook (outputs included, also when a cell fails) is saved in the run's catalog as
  ``notebooks/<step>.attempt-<n>.ipynb`` and listed in the step log.
- The kernel process's own stdout and stderr (where ipykernel echoes what cells write on file
  descriptors 1 and 2, e.g. from C code) go to a private file, printed after the cells' output.
  What the kernel writes there once it is asked to shut down (after the last cell) is printed only
  when the notebook failed; else it is logged at debug level: a kernel's trouble in its own
  shutdown is not the step's output.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, ClassVar

from stepline.paths import safe_file_name
from stepline.tasks.base import Invocation, TaskDefinitionError, TaskFailed, TaskType

INSTALL_HINT = 'install the notebook extra: pip install "stepline[notebook]"'
#: Keep the kernel's own log lines (e.g. about its TCP transport) off the task's output.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]
#: How much of what the kernel process wrote while it shut down a failed notebook shows.
KERNEL_OUTPUT_LINES = 40
logger = logging.getLogger(__name__)


def require_library() -> None:
    try:
        import nbformat  # noqa: F401
        import papermill  # noqa: F401
    except ImportError as exc:
        raise TaskDefinitionError(f"notebook tasks need papermill, which is not installed ({exc.name} is missing)",
                                  hint=INSTALL_HINT) from None


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


#: cells that are not the user's: papermill's parameters and error banners, Stepline's objects and returns
_ADDED_TAGS = frozenset({"injected-parameters", "papermill-error-cell-tag", "stepline-objects", "stepline-returns"})


def _cell_of_yours(executed, exec_count) -> str:
    """"cell N" for the cell that ran as ``In [exec_count]``: its place among the notebook's own cells
    (1-based, markdown cells counted, as the notebook shows them), not the kernel's execution count,
    which counts the cells papermill and Stepline add."""
    own = [c for c in executed.cells if _ADDED_TAGS.isdisjoint(c.metadata.get("tags", []))]
    for number, cell in enumerate(own, start=1):
        if cell.get("execution_count") == exec_count and exec_count is not None:
            return f"cell {number}"
    return f"the cell run as In [{exec_count}]"


def _code_cell(source: str, tag: str):
    import nbformat

    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = [tag]
    return cell


def _prepare(nb, objects_file: str | None, names: list[str], returns_file: str) -> None:
    """Add the objects cell (after the parameters cell) and the returns cell (last)."""
    if objects_file:
        source = (f"import pickle as _stepline_pickle\nwith open({objects_file!r}, 'rb') as _stepline_f:\n"
                  "    globals().update(_stepline_pickle.load(_stepline_f))")
        where = next((i + 1 for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])), 0)
        nb.cells.insert(where, _code_cell(source, "stepline-objects"))
    source = (f"import pickle as _stepline_pickle\n_stepline_names = {names!r}\n"
              f"with open({returns_file!r}, 'wb') as _stepline_f:\n"
              "    _stepline_pickle.dump({n: globals()[n] for n in _stepline_names if n in globals()}, _stepline_f)")
    nb.cells.append(_code_cell(source, "stepline-returns"))


def _strip(nb) -> None:
    nb.cells = [c for c in nb.cells if "stepline-returns" not in c.metadata.get("tags", [])]


def _print_outputs(nb) -> None:
    """The cells' printed output, so it reaches the console and the execution log."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                print(output.get("text", ""), end="")
            elif output.get("output_type") == "error":
                print(f"{output.get('ename')}: {output.get('evalue')}")


class KernelOutput:
    """The kernel process's stdout and stderr, a private file; where it stood at the shutdown request."""

    def __init__(self, path: Path):
        self.path = path
        self.stream = open(path, "wb")  # noqa: SIM115 - closed by report()
        self.at_shutdown: int | None = None

    def shutting_down(self) -> None:
        if self.at_shutdown is None:
            self.at_shutdown = os.fstat(self.stream.fileno()).st_size

    def manager_class(self) -> type:
        """An ``AsyncKernelManager`` (nbclient's default) that starts its kernel, and any restart,
        with stdout and stderr on this file, and notes where the file stood when asked to shut down."""
        from jupyter_client import AsyncKernelManager

        output = self

        class KernelManager(AsyncKernelManager):
            async def start_kernel(self, **kw):
                kw.setdefault("stdout", output.stream)
                kw.setdefault("stderr", output.stream)
                return await super().start_kernel(**kw)

            async def shutdown_kernel(self, *args, **kw):
                output.shutting_down()
                return await super().shutdown_kernel(*args, **kw)

        return KernelManager

    def report(self, failed: bool) -> None:
        self.stream.close()
        data = self.path.read_bytes()
        cut = len(data) if self.at_shutdown is None else self.at_shutdown
        early, late = data[:cut].decode(errors="replace"), data[cut:].decode(errors="replace").strip()
        if early:
            print(early, end="" if early.endswith("\n") else "\n")
        if late and failed:
            print("the kernel process's own output while it shut down:", *late.splitlines()[-KERNEL_OUTPUT_LINES:],
                  sep="\n")
        elif late:
            logger.debug("the kernel process's own output while it shut down:\n%s", late)


def execute_notebook(path: str, parameters: dict[str, Any], names: list[str]) -> tuple[dict, bytes, str]:
    """Run the notebook; return (variables named in ``names``, the executed notebook, error or "")."""
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    nb = nbformat.read(path, as_version=4)
    plain = {k: v for k, v in parameters.items() if _is_json(v)}
    objects = {k: v for k, v in parameters.items() if k not in plain}
    with tempfile.TemporaryDirectory(prefix="stepline-nb-") as private:
        objects_file = None
        if objects:
            objects_file = str(Path(private) / "objects.pickle")
            Path(objects_file).write_bytes(pickle.dumps(objects))
        returns_file = Path(private) / "returns.pickle"
        _prepare(nb, objects_file, names, str(returns_file))
        output = Path(private) / "executed.ipynb"
        error, failed = "", None  # failed: (the failed cell's execution count, what it raised)
        # papermill warns about parameters the notebook does not declare; every parameter is passed
        logging.getLogger("papermill").setLevel(logging.ERROR)
        kernel_output = KernelOutput(Path(private) / "kernel-output.txt")
        try:
            papermill.execute_notebook(nb, str(output), parameters=plain, kernel_name="python3", language="python",
                                       progress_bar=False, cwd=os.getcwd(), extra_arguments=KERNEL_ARGUMENTS,
                                       kernel_manager_class=kernel_output.manager_class())
        except PapermillExecutionError as exc:
            failed = (exc.exec_count, f"{exc.ename}: {exc.evalue}")
        except Exception as exc:  # noqa: BLE001 - a kernel that does not start, a notebook papermill cannot read
            error = f"{type(exc).__name__}: {exc}"
        executed = nbformat.read(str(output), as_version=4) if output.is_file() else nb
        if failed:
            error = f"{_cell_of_yours(executed, failed[0])}: {failed[1]}"
        _strip(executed)
        _print_outputs(executed)
        kernel_output.report(failed=bool(error))
        values = pickle.loads(returns_file.read_bytes()) if returns_file.is_file() and not error else {}
    return values, nbformat.writes(executed).encode("utf-8"), error


class NotebookTaskType(TaskType):
    name: ClassVar[str] = "notebook"

    def check(self, node) -> None:
        if not node.command.strip().endswith(".ipynb"):
            raise TaskDefinitionError(f"command '{node.command}' is not a notebook (.ipynb)",
                                      hint="command_type: notebook runs a .ipynb file")
        if not Path(node.command).is_file():
            raise TaskDefinitionError(f"notebook '{node.command}' not found in '{os.getcwd()}'",
                                      hint="the path is relative to the folder stepline runs in")
        require_library()

    def run(self, invocation: Invocation) -> dict[str, Any]:
        from stepline.tasks.python import _run_forked, _task_environment

        require_library()
        node = invocation.node
        names = [r.name for r in node.returns]
        if invocation.timeout:
            values, data, error = _run_forked(execute_notebook, {"path": node.command, "parameters":
                                              invocation.parameters, "names": names}, invocation)
        else:
            with _task_environment(invocation):
                values, data, error = execute_notebook(node.command, invocation.parameters, names)
        stem = Path(node.command).name.removesuffix(".ipynb")
        invocation.files[f"notebooks/{safe_file_name(invocation.step)}.attempt-{invocation.attempt}.ipynb"] = data
        if error:
            raise TaskFailed(f"notebook {stem}.ipynb failed at {error}")
        missing = [n for n in names if n not in values]
        if missing:
            raise TaskFailed(f"'returns' names '{missing[0]}' but the notebook defines no variable '{missing[0]}'")
        return {name: values[name] for name in names}
