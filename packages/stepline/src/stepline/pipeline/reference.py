"""Load a pipeline (or a job) by reference: the one way every process rebuilds the same graph.

A reference is one of:

- a YAML file: ``pipeline.yaml`` (a ``dag:``) or ``job.yaml`` (a ``job:``);
- ``module:attribute``: ``attribute`` of an importable module (the current folder is on the path);
- ``path/to/file.py:attribute``: ``attribute`` of a Python file, imported as a module named after
  the file, with the file's folder on the path (like ``python path/to/file.py`` does).

The attribute is a :class:`stepline.Pipeline`, a job (:class:`stepline.PythonJob`, ...), a
:class:`~stepline.pipeline.graph.Graph`, or a function without arguments that returns one of them.
The run log records the reference as its ``pipeline_file``, so ``execute-single-node`` rebuilds the
graph the same way in another process or container.

While a reference is loaded, :func:`loading_reference` is true: a script's ``main()`` that builds a
pipeline, calls ``.execute()`` and returns it (runnable's pattern) only builds it then, because
``execute()`` returns at once without running anything.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stepline.errors import PipelineDefinitionError, StepLineError

if TYPE_CHECKING:
    from stepline.pipeline.graph import Graph

YAML_SUFFIXES = (".yaml", ".yml")
#: The file an SDK error names while a pipeline is built in Python (replaced by the reference, if any).
SDK_FILE = "<sdk>"
_EXIT_HINT = 'keep sys.exit() under `if __name__ == "__main__":`'
_LOADING: contextvars.ContextVar[bool] = contextvars.ContextVar("stepline_loading_reference", default=False)


def loading_reference() -> bool:
    """True while a Python reference is imported or called to get its pipeline."""
    return _LOADING.get()


@contextlib.contextmanager
def _loading():
    token = _LOADING.set(True)
    try:
        yield
    finally:
        _LOADING.reset(token)


def is_python_reference(reference: str) -> bool:
    """True for ``module:attribute`` and ``file.py:attribute``."""
    head, sep, attr = reference.rpartition(":")
    return bool(sep and head and attr and attr.isidentifier()) and not head.endswith(YAML_SUFFIXES)


def load_graph(reference: str) -> Graph:
    """The completed, checked graph a reference names (warnings are issued with warnings.warn)."""
    reference = str(reference)
    if not is_python_reference(reference):
        return _load_yaml(reference)
    with _loading():
        return to_graph(load_object(reference), reference)


def _load_yaml(path: str) -> Graph:
    from stepline.pipeline.loader import load_pipeline
    from stepline.pipeline.yaml_io import load_yaml_file

    if not path.endswith(YAML_SUFFIXES) and not os.path.isfile(path):
        raise PipelineDefinitionError("not a pipeline file or reference", file=path,
                                      hint="give a YAML file, module:attribute or path/to/file.py:attribute")
    raw = load_yaml_file(path)
    from stepline.pipeline.job_file import is_job_file, job_graph, parse_job

    if is_job_file(raw):
        return job_graph(*parse_job(raw, file=path))
    return load_pipeline(path, raw)


def load_object(reference: str) -> Any:
    """The Python object ``module:attribute`` or ``file.py:attribute`` names."""
    target, _, attr = reference.rpartition(":")
    if target.endswith(".py"):
        module = _import_file(target, reference)
    else:
        module = _import_module(target, reference)
    if not hasattr(module, attr):
        raise PipelineDefinitionError(f"'{target}' has no attribute '{attr}'", file=reference,
                                      hint="name the variable that holds the pipeline, e.g. module:pipeline")
    return getattr(module, attr)


def _import_module(name: str, reference: str):
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(name)
    except StepLineError as exc:  # the module built a bad pipeline: that error names the step
        raise _in_reference(exc, reference) from None
    except ImportError as exc:
        raise PipelineDefinitionError(f"cannot import module '{name}': {exc}", file=reference,
                                      hint="run from the folder that holds it, or put it on PYTHONPATH") from None
    except Exception as exc:  # noqa: BLE001 - any error in the user's module becomes one line
        raise PipelineDefinitionError(f"importing '{name}' raised {type(exc).__name__}: {exc}",
                                      file=reference) from None
    except SystemExit as exc:
        raise PipelineDefinitionError(f"importing '{name}' called sys.exit({exc.code!r})", file=reference,
                                      hint=_EXIT_HINT) from None


def _import_file(path: str, reference: str):
    """Import a .py file as the module named after it (its folder goes on the path, and the working
    folder after the rest), once."""
    file = Path(path).resolve()
    if not os.path.isfile(file):
        raise PipelineDefinitionError("Python file not found", file=path, hint="check the path")
    name = file.name[: -len(".py")]
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__file__", None) and Path(loaded.__file__).resolve() == file:
        return loaded
    if loaded is None:
        main = sys.modules.get("__main__")  # `python pipeline.py`: the file runs as __main__ already
        if main is not None and getattr(main, "__file__", None) and Path(main.__file__).resolve() == file:
            return main
    folder = str(file.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    # a script that imports its project's packages (`from examples.common import ...`) imports them from
    # the working folder, as runnable's rebuild (a dotted module from the working folder) does
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SystemExit as exc:
        sys.modules.pop(name, None)
        raise PipelineDefinitionError(f"importing it called sys.exit({exc.code!r})", file=path,
                                      hint=_EXIT_HINT) from None
    except Exception as exc:
        sys.modules.pop(name, None)
        if isinstance(exc, StepLineError):
            raise _in_reference(exc, path) from None
        raise PipelineDefinitionError(f"importing it raised {type(exc).__name__}: {exc}", file=path,
                                      hint=_raised_at(exc)) from exc  # --debug shows the user's frames
    return module


def _raised_at(exc: BaseException) -> str:
    """Where an import's exception was raised (the innermost frame), for the error's hint."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    if isinstance(exc, SyntaxError) or not frames:  # a SyntaxError's message names its line already
        return _DEBUG_HINT
    where = frames[-1]
    shown = where.filename.removeprefix(os.getcwd() + os.sep)  # relative when under the working folder
    return f"raised at {shown}, line {where.lineno}; {_DEBUG_HINT}"


_DEBUG_HINT = "stepline --debug shows the traceback"


def _in_reference(exc: StepLineError, reference: str) -> StepLineError:
    """An SDK error names the reference the graph came from, not a placeholder file."""
    if exc.file == SDK_FILE:
        exc.file = None
    return exc.with_context(file=reference)


def to_graph(obj: Any, reference: str) -> Graph:
    """A Graph from a Pipeline, a job, a Graph, or a function returning one of them."""
    from stepline.pipeline.graph import Graph

    if callable(obj) and not hasattr(obj, "graph") and not isinstance(obj, Graph):
        try:
            obj = obj()
        except TypeError as exc:
            raise PipelineDefinitionError(f"calling it to get the pipeline failed: {exc}", file=reference,
                                          hint="point at a Pipeline, or a function without arguments "
                                               "that returns one") from None
        except StepLineError:
            raise
        except Exception as exc:  # noqa: BLE001 - any error in the user's function becomes one line
            raise PipelineDefinitionError(f"calling it to get the pipeline raised {type(exc).__name__}: {exc}",
                                          file=reference) from None
    if isinstance(obj, Graph):
        return obj
    graph = getattr(obj, "graph", None)
    if callable(graph):
        try:
            return graph()
        except StepLineError as exc:
            raise _in_reference(exc, reference) from None
    raise PipelineDefinitionError(f"is a {type(obj).__name__}, not a stepline Pipeline or job", file=reference,
                                  hint="point at a stepline.Pipeline (or a PythonJob, ShellJob, NotebookJob)")
