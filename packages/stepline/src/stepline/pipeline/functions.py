"""The user's functions a pipeline names by dotted path (python tasks' commands, map reducers)."""

from __future__ import annotations

import importlib
import os
import sys
from functools import lru_cache
from typing import Any

from stepline.errors import TaskDefinitionError


def split_reference(command: str) -> tuple[str, str]:
    """'pkg.mod.func' or 'pkg.mod:func' -> ('pkg.mod', 'func')."""
    module, sep, attr = command.strip().rpartition(":") if ":" in command else command.strip().rpartition(".")
    if not sep or not module or not attr:
        raise TaskDefinitionError(f"command '{command}' is not a dotted path to a function",
                                  hint="write module.function, e.g. my_pkg.steps.train")
    return module, attr


@lru_cache(maxsize=None)
def import_callable(command: str) -> Any:
    module_name, attr = split_reference(command)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise TaskDefinitionError(f"cannot import '{module_name}' for command '{command}': {exc}",
                                  hint="run from the folder that holds it, or put it on PYTHONPATH") from None
    except Exception as exc:
        raise TaskDefinitionError(f"importing '{module_name}' raised {type(exc).__name__}: {exc}") from None
    except SystemExit as exc:  # sys.exit() at import would end `validate` with no message
        raise TaskDefinitionError(f"importing '{module_name}' called sys.exit({exc.code!r})",
                                  hint="keep scripts' sys.exit() under `if __name__ == \"__main__\":`") from None
    func = getattr(module, attr, None)
    if not callable(func):
        raise TaskDefinitionError(f"'{module_name}' has no function '{attr}'", hint="check the command")
    return func
