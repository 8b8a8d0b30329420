"""What every renderer shares: the job it renders, its base class, the callback command lines (and the
branch keys ``fan out`` prints), and deterministic DNS-1123 names derived from step paths."""

from __future__ import annotations

import abc
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from stepline.component import Locality
from stepline.executors.base import Executor

if TYPE_CHECKING:
    from stepline.pipeline.graph import Graph
    from stepline.run.services import Services

STEPLINE = "stepline"


@dataclass
class RenderJob:
    """A checked pipeline and its services, and the files the callbacks will be given."""

    graph: Graph
    services: Services
    pipeline_file: str
    config_file: str | None = None
    params_file: str | None = None

    def initial_parameters(self) -> dict[str, Any]:
        from stepline.params import initial_parameters

        return {name: p.value for name, p in initial_parameters(self.params_file).items()}


class RenderingExecutor(Executor):
    """Base of orchestration executors: ``render_text`` turns a job into the workflow's text, which
    ``render`` writes to the ``output_file`` setting."""

    renders: ClassVar[bool] = True
    runs_steps_in: ClassVar[Locality] = Locality.NETWORK

    def execute(self, run) -> Any:
        from stepline.errors import NotSupportedError

        raise NotSupportedError(f"the {self.name} executor renders a workflow; it does not run one",
                                hint="stepline execute PIPELINE -c CONFIG writes the workflow")

    @abc.abstractmethod
    def render_text(self, job: RenderJob) -> str:
        """The rendered workflow (script, manifest, state machine) for ``job``."""

    def render(self, job: RenderJob) -> str:
        text = self.render_text(job)
        path = Path(self.settings.output_file)
        if path.parent != Path("."):
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return str(path)


# ---- callback command lines (argv lists; renderers quote or embed them) ------------------------------
def _files(pipeline_file: str, config_file: str | None) -> list[str]:
    return ["-f", pipeline_file] + (["-c", config_file] if config_file else [])


def start_run_command(run_id: str, pipeline_file: str, config_file: str | None,
                      params_file: str | None = None) -> list[str]:
    return [STEPLINE, "start-run", run_id, *_files(pipeline_file, config_file)] + (
        ["-p", params_file] if params_file else [])


def single_node_command(run_id: str, step: str, pipeline_file: str, config_file: str | None) -> list[str]:
    return [STEPLINE, "execute-single-node", run_id, step, *_files(pipeline_file, config_file)]


def fan_command(run_id: str, step: str, direction: str, pipeline_file: str, config_file: str | None,
                iteration: str | None = None, output_file: str | None = None) -> list[str]:
    command = [STEPLINE, "fan", run_id, step, direction, *_files(pipeline_file, config_file)]
    if iteration is not None:
        command += ["--iteration", iteration]
    if output_file:
        command += ["--output-file", output_file]
    return command


def finish_run_command(run_id: str, pipeline_file: str, config_file: str | None) -> list[str]:
    return [STEPLINE, "finish-run", run_id, *_files(pipeline_file, config_file)]


def dump_keys(keys: list[str]) -> str:
    """The JSON text ``fan out`` prints: compact, so engines can compare it as a string."""
    return json.dumps(keys, separators=(",", ":"))


# ---- names ------------------------------------------------------------------------------------------
_NOT_DNS = re.compile(r"[^a-z0-9]+")


def short_hash(text: str, size: int = 8) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:size]


class NameBook:
    """Stable, unique names from step paths: lower-case alphanumerics and ``sep`` (DNS-1123 labels with
    ``-``, shell identifiers with ``_``), at most ``limit`` characters. A name that had to be shortened,
    or that two paths would share, gets a hash of its path appended, so the same pipeline always gives
    the same names."""

    def __init__(self, sep: str = "-", limit: int = 63, prefix: str = "") -> None:
        self.sep, self.limit, self.prefix = sep, limit, prefix
        self.by_key: dict[str, str] = {}
        self.taken: set[str] = set()

    def slug(self, key: str) -> str:
        slug = _NOT_DNS.sub(self.sep, key.lower()).strip(self.sep)
        return self.prefix + (slug or "x")

    def name(self, key: str) -> str:
        if key in self.by_key:
            return self.by_key[key]
        slug = self.slug(key)
        if len(slug) > self.limit or slug in self.taken:
            slug = slug[: self.limit - 9].rstrip(self.sep) + self.sep + short_hash(key)
        while slug in self.taken:  # a hash collision within one workflow: practically never
            slug = slug[: self.limit - 9] + self.sep + short_hash(slug + key)
        self.by_key[key] = slug
        self.taken.add(slug)
        return slug
