"""A component class named by where it lives, so that loading the plugins imports nothing heavy."""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LazyComponent:
    """What ``stepline_components()`` may return instead of a class: the class's ``kind``, ``name``
    and ``"module:Class"``. The registry imports the module the first time a run looks the
    component up, so a run pays only for the components its configuration and pipeline use.

    ``kind`` and ``name`` must be those of the class (checked when it is imported)."""

    kind: str
    name: str
    target: str

    def load(self, plugin: str = "?") -> type[Any]:
        """The class, imported; a PluginError naming ``plugin`` when it cannot be."""
        from stepline.errors import PluginError

        module_name, _, attribute = self.target.partition(":")
        try:
            cls = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as exc:
            raise PluginError(f"plugin '{plugin}' offers {self.kind} '{self.name}' as {self.target}, which does not "
                              f"import: {exc}",
                              hint=f"reinstall it, or set STEPLINE_DISABLE_PLUGINS={plugin}") from None
        if (getattr(cls, "kind", None), getattr(cls, "name", None)) != (self.kind, self.name):
            raise PluginError(f"plugin '{plugin}' offers {self.kind} '{self.name}' as {self.target}, whose kind and "
                              f"name are {getattr(cls, 'kind', None)!r} and {getattr(cls, 'name', None)!r}",
                              hint="make the LazyComponent's kind and name those of the class")
        return cls


def loaded_instance(obj: object, target: str) -> bool:
    """Whether ``obj`` is an instance of the class ``"module:Class"``, without importing the module:
    when it was never imported, no instance of its classes exists. Hooks that check components of
    their own package (``stepline_check_integration``...) use it to stay cheap for everyone else."""
    module_name, _, attribute = target.partition(":")
    module = sys.modules.get(module_name)
    return module is not None and isinstance(obj, getattr(module, attribute))
