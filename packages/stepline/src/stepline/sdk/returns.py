"""What a task returns (``json``, ``pickled``, ``metric``) and the files it moves (``Catalog``)."""

from __future__ import annotations

from typing import Any

from stepline.errors import PipelineDefinitionError
from stepline.pipeline.nodes import CatalogSpec, ReturnSpec


def json(name: str) -> ReturnSpec:
    """A return kept as JSON in the run log (the default for a plain string)."""
    return ReturnSpec(name=name, kind="json")


def pickled(name: str) -> ReturnSpec:
    """A return pickled into the catalog; the run log keeps a reference (``kind: object``)."""
    return ReturnSpec(name=name, kind="object")


def metric(name: str) -> ReturnSpec:
    """A numeric return kept in the run log and sent to the experiment tracker (``kind: metric``)."""
    return ReturnSpec(name=name, kind="metric")


def Catalog(get: list[str] | None = None, put: list[str] | None = None,
            store_copy: bool = True) -> CatalogSpec:
    """Files to ``get`` from the run's catalog before the task and ``put`` into it afterwards."""
    from pydantic import ValidationError

    try:
        return CatalogSpec(get=list(get or []), put=list(put or []), store_copy=store_copy)
    except ValidationError as exc:
        raise PipelineDefinitionError(f"Catalog: {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None


def return_specs(returns: Any, step: str) -> list[ReturnSpec]:
    """``["x", pickled("y"), metric("z")]`` as ReturnSpecs."""
    if returns is None:
        return []
    if isinstance(returns, (str, ReturnSpec)):
        returns = [returns]
    specs = []
    for item in returns:
        if isinstance(item, str):
            specs.append(ReturnSpec(name=item))
        elif isinstance(item, ReturnSpec):
            specs.append(item)
        else:
            raise PipelineDefinitionError(f"returns: {item!r} is neither a name nor json()/pickled()/metric()",
                                          step=step, hint='e.g. returns=["x", pickled("model"), metric("loss")]')
    return specs
