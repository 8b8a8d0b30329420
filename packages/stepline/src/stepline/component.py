"""The base every pluggable part derives from: executors, stores, catalogs, secrets, trackers, tasks.

A component has a ``kind`` (what slot it fills), a ``name`` (the ``type:`` users write in a config
file) and a pydantic ``Settings`` model for its ``config:`` block. Unknown settings are errors.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from stepline.errors import ConfigError, did_you_mean, quote_hint

#: Every slot a plugin can fill; a component class's ``kind`` is one of these.
KINDS = ("executor", "run_log_store", "catalog", "secrets", "experiment_tracker", "task", "node")


class Locality(IntEnum):
    """Who can reach a service's data, from narrowest to widest."""

    PROCESS = 1  # only the process that created it (memory)
    MACHINE = 2  # any process on this machine (local files, sqlite)
    NETWORK = 3  # any machine that can reach a server or a bucket


class Settings(BaseModel):
    """Base of every component's ``config:`` block: unknown keys are errors.

    Built on first use (``defer_build``): every installed backend's settings are imported when the
    plugins load, and a run validates only the few its configuration names."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class Component:
    kind: ClassVar[str]
    name: ClassVar[str]
    Settings: ClassVar[type[Settings]] = Settings

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings if settings is not None else self.Settings()

    @classmethod
    def from_config(cls, config: dict[str, Any] | None, *, source: str = "config") -> Component:
        """Build from a raw ``config:`` mapping, turning validation errors into one-line ConfigErrors."""
        try:
            settings = cls.Settings.model_validate(config or {})
        except ValidationError as exc:
            raise config_error(exc, cls.Settings, f"{cls.kind} '{cls.name}'", source) from None
        return cls(settings)

    def local_paths(self) -> list[str]:
        """Folders or files on this machine the component reads or writes (a run log folder, a
        catalog, a .env file). Executors that run steps elsewhere mount or share these."""
        return []

    def describe(self) -> dict[str, Any]:
        """What the run log records as this component's effective configuration."""
        return {"type": self.name, "config": self.settings.model_dump(mode="json", exclude_none=True)}


def config_error(exc: ValidationError, model: type[BaseModel], where: str, source: str) -> ConfigError:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        key = str(err["loc"][-1])
        return ConfigError(f"{where}: unknown setting '{loc}'", file=source,
                           hint=did_you_mean(key, model.model_fields) or
                           f"known settings: {', '.join(model.model_fields) or 'none'}")
    message = err["msg"].removeprefix("Value error, ")
    if not loc:  # a check of the whole block (a model validator) names its settings itself
        return ConfigError(f"{where}: {message}", file=source)
    return ConfigError(f"{where}: setting '{loc}': {message}", file=source, hint=quote_hint(err))
