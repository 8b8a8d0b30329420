"""Reading YAML files with errors that name the file and the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stepline.errors import ConfigError, PipelineDefinitionError


def load_yaml_file(path: str | Path, *, what: str = "pipeline") -> Any:
    import yaml

    error = PipelineDefinitionError if what == "pipeline" else ConfigError
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{what} file not found", file=str(path), hint="check the path") from None
    except IsADirectoryError:
        raise error(f"{what} file is a directory", file=str(path)) from None
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"invalid YAML: {where}{problem}", file=str(path), hint="fix the YAML syntax") from None
