"""Default factories for model fields.

pydantic reads the signature of every ``default_factory`` when it builds a model; for a builtin such
as ``list`` that means parsing its text signature with :mod:`tokenize`, whose first use compiles a
large regular expression: about 4 ms in every process that loads the pipeline and run log models.
A plain function's signature costs nothing to read.
"""

from __future__ import annotations

from typing import Any


def empty_list() -> list[Any]:
    """A new empty list."""
    return []
