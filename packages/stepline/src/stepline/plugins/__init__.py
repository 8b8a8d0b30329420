"""Stepline's plugin system (pluggy).

A plugin is a module or object with hook implementations, published as an entry point::

    [project.entry-points.stepline]
    my_backend = "my_backend.plugin"

and in ``my_backend/plugin.py``::

    from stepline.plugins import hookimpl

    @hookimpl
    def stepline_components():
        return [MyRunLogStore]

Every hook is documented in :mod:`stepline.plugins.hookspec`; integration checks return
:class:`Problem` objects.
"""

import pluggy

from stepline.plugins.lazy import LazyComponent
from stepline.plugins.problem import Problem, Severity

PROJECT = "stepline"
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = ["PROJECT", "LazyComponent", "Problem", "Severity", "hookimpl"]
