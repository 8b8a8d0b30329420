"""Experiment tracker type ``mlflow``.

One mlflow run per pipeline run, found or created by its ``stepline.run_id`` tag, so every process
that runs steps of the same pipeline run (orchestrated runs start one per step) logs into the same
mlflow run. Metrics of steps inside a map iteration or a parallel branch go to a nested child run
per branch (``fan.3`` for the step ``fan.3.square``).

mlflow is imported only when the tracker is first used: importing it costs about two seconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import AliasChoices, Field
from stepline.api import ExperimentTracker, Locality, Settings, StepLineError

RUN_ID_TAG = "stepline.run_id"
LEVEL_TAG = "stepline.level"  # "pipeline" or "branch"
BRANCH_TAG = "stepline.branch"  # the branch's dotted internal name, e.g. "fan.3"
STEP_TAG = "stepline.step"  # the composite step the branch belongs to, e.g. "fan"
PARENT_TAG = "mlflow.parentRunId"

_STATUS = {"SUCCESS": "FINISHED", "FAIL": "FAILED"}
_MAX_PARAM_LENGTH = 6000
_ALLOWED = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-. /:")


class MlflowSettings(Settings):
    # runnable names the same setting server_url
    tracking_uri: str = Field("sqlite:///.stepline/mlflow.db",
                              validation_alias=AliasChoices("tracking_uri", "server_url"))
    """Where mlflow stores runs: a sqlite file, a folder, or a tracking server (http://...);
    runnable's ``server_url`` is accepted for it."""
    experiment_name: str = "stepline"
    """The mlflow experiment that holds the runs (created when missing)."""


def local_path(uri: str) -> Path | None:
    """The file or folder a local tracking URI points at; None for a server."""
    parts = urlsplit(uri)
    if parts.scheme == "sqlite":
        path = uri[len("sqlite:///"):] if uri.startswith("sqlite:///") else parts.path
        return Path(path) if path and path != ":memory:" else Path(":memory:")
    if parts.scheme == "file":
        return Path(parts.path)
    if parts.scheme == "" or len(parts.scheme) == 1:  # a plain path (or a Windows drive letter)
        return Path(uri)
    return None


def _clean_key(key: str) -> str:
    return "".join(c if c in _ALLOWED else "_" for c in str(key))[:250] or "_"


def _flatten(parameters: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in parameters.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{name}."))
        else:
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            flat[_clean_key(name)] = text[:_MAX_PARAM_LENGTH]
    return flat


def _quote(value: str) -> str:
    if "'" in value:
        raise StepLineError(f"experiment tracker 'mlflow': a run id or branch with a quote ({value!r}) "
                            "cannot be searched in mlflow", hint="use run ids without quotes")
    return f"'{value}'"


def _forget_inherited_connections() -> None:
    """In a forked child, drop (without closing) the database connections pooled by the parent."""
    try:
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        engines = list(getattr(SqlAlchemyStore, "_engine_map", {}).values())
    except Exception:  # noqa: BLE001  # pragma: no cover - another mlflow layout: nothing to drop
        return
    for engine in engines:
        engine.dispose(close=False)  # SQLAlchemy's documented way for a forked child


class MlflowTracker(ExperimentTracker):
    """Parameters and metrics of each pipeline run in one mlflow run (nested runs per branch)."""

    name: ClassVar[str] = "mlflow"
    Settings: ClassVar[type[Settings]] = MlflowSettings

    def __init__(self, settings: MlflowSettings | None = None) -> None:
        super().__init__(settings)
        self._client: Any = None
        self._experiment_id: str | None = None
        self._runs: dict[tuple[str, str], str] = {}  # (stepline run id, branch) -> mlflow run id
        self._lock = threading.RLock()
        self._pid = os.getpid()

    # ---- what the core asks -------------------------------------------------------------------------
    @property
    def is_local(self) -> bool:
        return local_path(self.settings.tracking_uri) is not None

    @property
    def locality(self) -> Locality:
        return Locality.MACHINE if self.is_local else Locality.NETWORK

    def describe(self) -> dict[str, Any]:
        config = self.settings.model_dump(mode="json")
        parts = urlsplit(config["tracking_uri"])
        if parts.password:  # never record a password embedded in the URI
            netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
            config["tracking_uri"] = urlunsplit(parts._replace(netloc=netloc))
        return {"type": self.name, "config": config}

    def start_run(self, run_id: str, parameters: dict[str, Any], tags: dict[str, str]) -> None:
        self._run(run_id, "", parameters=parameters, tags=tags)

    def log_metric(self, run_id: str, name: str, value: float, *, step: int | None = None,
                   step_name: str = "") -> None:
        branch = step_name.rsplit(".", 1)[0] if "." in step_name else ""
        target = self._run(run_id, branch)
        with self._errors("log metric"):
            self._client_().log_metric(target, _clean_key(name), float(value),
                                       timestamp=int(time.time() * 1000), step=int(step or 0))

    def end_run(self, run_id: str, status: str) -> None:
        mlflow_status = _STATUS.get(str(getattr(status, "value", status)), "KILLED")
        client = self._client_()
        with self._errors("end run"):
            runs = self._search(run_id, None)
            for run in sorted(runs, key=lambda r: r.data.tags.get(LEVEL_TAG) == "pipeline"):
                if run.info.status == "RUNNING":  # children first, then the pipeline's run
                    client.set_terminated(run.info.run_id, status=mlflow_status)

    # ---- mlflow runs --------------------------------------------------------------------------------
    def _run(self, run_id: str, branch: str, *, parameters: dict[str, Any] | None = None,
             tags: dict[str, str] | None = None) -> str:
        """The mlflow run of (run_id, branch): found by tags, or created (with its parent)."""
        key = (run_id, branch)
        if key in self._runs:
            return self._runs[key]
        parent = self._run(run_id, "") if branch else None
        with self._lock, self._machine_lock(), self._errors("start run"):
            found = self._search(run_id, branch)
            if found:
                self._runs[key] = found[0].info.run_id
                return self._runs[key]
            client = self._client_()
            run_tags = {RUN_ID_TAG: run_id, LEVEL_TAG: "branch" if branch else "pipeline"}
            if branch:
                run_tags.update({BRANCH_TAG: branch, STEP_TAG: branch.rsplit(".", 1)[0], PARENT_TAG: parent})
            else:
                run_tags.update({_clean_key(k): str(v)[:5000] for k, v in (tags or {}).items()})
            created = client.create_run(self._experiment(), tags=run_tags,
                                        run_name=branch or run_id).info.run_id
            # another machine may have created one at the same time: all agree on the oldest
            winner = self._search(run_id, branch)[0].info.run_id
            if winner != created:
                client.delete_run(created)
            elif not branch and parameters:
                from mlflow.entities import Param

                params = [Param(k, v) for k, v in _flatten(parameters).items()]
                for start in range(0, len(params), 100):
                    client.log_batch(created, params=params[start:start + 100])
            self._runs[key] = winner
            return winner

    def _search(self, run_id: str, branch: str | None) -> list[Any]:
        """Runs tagged with run_id (and branch; None: all levels), oldest first."""
        query = f"tags.`{RUN_ID_TAG}` = {_quote(run_id)}"
        if branch == "":
            query += f" and tags.`{LEVEL_TAG}` = 'pipeline'"
        elif branch is not None:
            query += f" and tags.`{LEVEL_TAG}` = 'branch' and tags.`{BRANCH_TAG}` = {_quote(branch)}"
        runs = self._client_().search_runs([self._experiment()], filter_string=query, max_results=50000)
        return sorted(runs, key=lambda r: (r.info.start_time, r.info.run_id))

    def _experiment(self) -> str:
        if self._experiment_id is None:
            from mlflow.exceptions import MlflowException

            client = self._client_()
            name = self.settings.experiment_name
            experiment = client.get_experiment_by_name(name)
            if experiment is None:
                try:
                    self._experiment_id = client.create_experiment(name)
                except MlflowException:  # created meanwhile by another process
                    experiment = client.get_experiment_by_name(name)
                    if experiment is None:
                        raise
            if experiment is not None:
                if experiment.lifecycle_stage == "deleted":
                    raise StepLineError(f"experiment tracker 'mlflow': experiment '{name}' is deleted",
                                        hint="restore it in mlflow, or set experiment_name")
                self._experiment_id = experiment.experiment_id
        return self._experiment_id

    def _client_(self) -> Any:
        if self._client is not None and self._pid != os.getpid():
            _forget_inherited_connections()  # a forked branch worker: the parent's connections stay its own
            self._pid = os.getpid()
        if self._client is None:
            uri = self.settings.tracking_uri
            path = local_path(uri)
            if path is not None and str(path) != ":memory:":
                if uri.startswith("sqlite:"):
                    path.parent.mkdir(parents=True, exist_ok=True)
                else:  # mlflow refuses its file store unless asked for it explicitly
                    path.mkdir(parents=True, exist_ok=True)
                    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
            with self._errors("connect"):
                from mlflow.tracking import MlflowClient

                self._client = MlflowClient(tracking_uri=uri)
        return self._client

    @contextlib.contextmanager
    def _machine_lock(self):
        """For a local store, serialise find-or-create across this machine's processes."""
        path = local_path(self.settings.tracking_uri)
        if path is None or str(path) == ":memory:":
            yield
            return
        from filelock import FileLock

        lock = (path.parent if self.settings.tracking_uri.startswith("sqlite:") else path) / ".stepline-mlflow.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(lock):
            yield

    @contextlib.contextmanager
    def _errors(self, doing: str):
        try:
            yield
        except StepLineError:
            raise
        except Exception as exc:
            if type(exc).__module__.split(".")[0] != "mlflow":
                raise
            first = (getattr(exc, "message", None) or str(exc)).strip().splitlines()[0][:300]
            raise StepLineError(f"experiment tracker 'mlflow': {doing} at {self.describe()['config']['tracking_uri']}"
                                f" failed: {first}", hint="check tracking_uri and experiment_name") from exc
