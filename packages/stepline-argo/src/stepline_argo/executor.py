"""The ``argo`` executor: renders a pipeline as an Argo Workflows manifest.

Every graph (the pipeline and each branch graph) becomes a DAG template whose tasks call back into
Stepline: leaves run ``stepline execute-single-node``, composites ``stepline fan ... out`` → the
branches → ``stepline fan ... in``. Routing uses ``depends`` (``X.Succeeded`` → ``next``,
``X.Failed`` → ``on_failure``/fail). Names come from step paths, so the output is deterministic.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import PurePosixPath
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel
from stepline.api import (
    Component,
    ConfigError,
    Locality,
    NameBook,
    NotSupportedError,
    RenderingExecutor,
    RenderJob,
    Settings,
    StepLineError,
    fan_command,
    finish_run_command,
    reachable_from,
    run_targets,
    single_node_command,
    start_run_command,
)

RUN_ID = "{{workflow.parameters.run_id}}"
FAN_FILE = "/tmp/stepline-fan.json"
_PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_UNRESOLVED = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_SAFE_KEY = re.compile(r"^[^'\\\"{}]+$")


class Resources(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    requests: dict[str, str] = Field(default_factory=dict)
    limits: dict[str, str] = Field(default_factory=dict)

    @field_validator("requests", "limits", mode="before")
    @classmethod
    def _quantities(cls, value: Any) -> Any:
        """runnable writes ``gpu: 1`` and numbers; Kubernetes wants ``nvidia.com/gpu: "1"`` strings.
        An empty key (``requests:`` with nothing under it) means none."""
        if value is None:
            return {}
        if isinstance(value, dict):
            return {("nvidia.com/gpu" if k == "gpu" else k): str(v) for k, v in value.items() if v is not None}
        return value


class Toleration(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    key: str | None = None
    operator: Literal["Exists", "Equal"] | None = None
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    tolerationSeconds: int | None = None


class PersistentVolume(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    name: str = Field(description="The PersistentVolumeClaim to mount.")
    mount_path: str


class SecretFromK8s(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    environment_variable: str
    secret_name: str
    secret_key: str


class EnvVar(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    name: str
    value: str


class StepOverride(BaseModel):
    """What a step's ``overrides: {argo: {...}}`` (or a named override) may change: its container
    (image, pull policy, resources, environment) and its template (node selector, tolerations, the
    deadline and timeout runnable's overrides also take)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    image: str | None = None
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = None
    resources: Resources | None = None
    node_selector: dict[str, str] | None = None
    tolerations: list[Toleration] | None = None
    env: list[EnvVar] | None = None
    active_deadline_seconds: int | None = Field(None, ge=1)
    timeout: str | None = None
    parallelism: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _no_step_parallelism(self) -> StepOverride:
        if self.parallelism is not None:
            raise ValueError("parallelism in a step's override is not supported: limit the pods of the whole "
                             "workflow with the executor's parallelism (or defaults.parallelism)")
        return self


class RunnableDefaults(BaseModel):
    """runnable's ``defaults:`` block: what every step's container and template get."""

    model_config = ConfigDict(extra="forbid", defer_build=True, alias_generator=to_camel, populate_by_name=True)
    image: str | None = None
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = None
    resources: Resources | None = None
    node_selector: dict[str, str] | None = None
    tolerations: list[Toleration] | None = None
    active_deadline_seconds: int | None = Field(None, ge=1)
    timeout: str | None = None
    parallelism: int | None = Field(None, ge=1)
    env: list[EnvVar] = Field(default_factory=list)


class RunnableWorkflow(BaseModel):
    """runnable's ``argoWorkflow:``: the workflow's metadata and spec, passed through."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    metadata: dict[str, Any] = Field(default_factory=dict)
    spec: dict[str, Any] = Field(default_factory=dict)

    @field_validator("spec")
    @classmethod
    def _not_ours(cls, spec: dict[str, Any]) -> dict[str, Any]:
        taken = sorted(set(spec) & {"entrypoint", "onExit", "templates"})
        if taken:
            raise ValueError(f"spec.{taken[0]} is written by Stepline from the pipeline; remove it")
        return spec


class CronSchedule(BaseModel):
    """runnable's ``cron_schedule: {schedules: [...], timezone: ...}``."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    schedules: list[str] = Field(min_length=1)
    timezone: str | None = None


class CustomVolume(BaseModel):
    """runnable's ``custom_volumes`` entry."""

    model_config = ConfigDict(extra="forbid", defer_build=True, alias_generator=to_camel, populate_by_name=True)
    mount_path: str
    persistent_volume_claim: dict[str, Any]


#: Where runnable mounts ``pvc_for_runnable`` in every step.
RUNNABLE_MOUNT = "/mnt"

#: Services keeping their files in a local folder, which the pods use on the shared volume instead
#: (as runnable does): (kind, type) -> (the setting naming the folder, the folder on the volume, the
#: stack that points the setting there, and the variable the stack reads the folder from).
MOVABLE = {
    ("run_log_store", "chunked-fs"): ("log_folder", "run_log_store", "argo-volume-chunked-fs",
                                      "STEPLINE_ARGO_RUN_LOG_FOLDER"),
    ("run_log_store", "file-system"): ("log_folder", "run_log_store", "argo-volume-file-system-run-log",
                                       "STEPLINE_ARGO_RUN_LOG_FOLDER"),
    ("catalog", "file-system"): ("catalog_location", "catalog", "argo-volume-file-system-catalog",
                                 "STEPLINE_ARGO_CATALOG_LOCATION"),
}


def volume_stacks() -> dict[str, dict[str, Any]]:
    """The stacks a pod's configuration reference adds to move a service's folder onto the volume."""
    return {stack: {kind: {"type": name, "config": {setting: "${" + variable + "}"}}}
            for (kind, name), (setting, _, stack, variable) in MOVABLE.items()}


class ArgoSettings(Settings):
    model_config = ConfigDict(extra="forbid", defer_build=True, populate_by_name=True)
    image: str | None = None
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = None
    service_account_name: str | None = None
    namespace: str | None = None
    name: str = Field("stepline-", description="metadata.generateName of the workflow")
    resources: Resources = Field(default_factory=lambda: Resources(
        requests={"cpu": "250m", "memory": "1Gi"}, limits={"cpu": "500m", "memory": "1Gi"}))
    node_selector: dict[str, str] = Field(default_factory=dict)
    tolerations: list[Toleration] = Field(default_factory=list)
    active_deadline_seconds: int | None = Field(None, ge=1)
    parallelism: int | None = Field(None, ge=1)
    persistent_volumes: list[PersistentVolume] = Field(default_factory=list)
    secrets_from_k8s: list[SecretFromK8s] = Field(default_factory=list)
    cron_schedule: str | CronSchedule | None = None
    output_file: str = "argo-workflow.yaml"
    # ---- runnable 0.50's shape of the same executor -------------------------------------------------
    defaults: RunnableDefaults | None = None
    argo_workflow: RunnableWorkflow | None = Field(None, alias="argoWorkflow")
    pvc_for_runnable: str | None = Field(None, description=f"a PVC mounted at {RUNNABLE_MOUNT} in every step")
    custom_volumes: list[CustomVolume] = Field(default_factory=list)
    #: runnable's named step overrides: a step's ``overrides: {argo: NAME}`` picks one.
    overrides: dict[str, StepOverride] = Field(default_factory=dict)
    secret_from_k8s: str | None = Field(None, description="a Kubernetes secret holding every task secret, "
                                                          "under the secret's name as key")

    @model_validator(mode="before")
    @classmethod
    def _refuse_runnable_only(cls, data: Any) -> Any:
        if isinstance(data, dict) and "configmap_cache_name" in data:
            raise ValueError("configmap_cache_name (Argo memoization of finished steps) is not supported: a "
                             "failed run is continued with `stepline retry RUN_ID`; remove the setting")
        return data

    @model_validator(mode="after")
    def _runnable_shape(self) -> ArgoSettings:
        """Fold runnable's ``defaults``, ``pvc_for_runnable`` and ``custom_volumes`` into the settings
        they mean, so the manifest is built one way whichever shape the file used."""
        d = self.defaults
        if d is not None:
            for name in ("image", "image_pull_policy", "resources", "node_selector", "tolerations", "parallelism"):
                if getattr(d, name) is not None and name not in self.model_fields_set:
                    setattr(self, name, getattr(d, name))
        if self.pvc_for_runnable and not any(v.name == self.pvc_for_runnable and v.mount_path == RUNNABLE_MOUNT
                                             for v in self.persistent_volumes):
            self.persistent_volumes.append(PersistentVolume(name=self.pvc_for_runnable, mount_path=RUNNABLE_MOUNT))
        for volume in self.custom_volumes:
            claim = volume.persistent_volume_claim.get("claim_name") or volume.persistent_volume_claim.get("claimName")
            if not claim:
                raise ValueError("custom_volumes: persistent_volume_claim needs claim_name")
            self.persistent_volumes.append(PersistentVolume(name=str(claim), mount_path=volume.mount_path))
        self.custom_volumes = []
        if not self.image:
            raise ValueError("the argo executor needs an image: set image, or defaults.image as runnable does")
        for where, text in [("image", self.image), *((f"overrides.{k}.image", o.image)
                                                    for k, o in self.overrides.items() if o.image)]:
            if found := _UNRESOLVED.search(text):
                name = found.group(1)
                raise ValueError(f"{where} '{text}' names variable ${name}, which is not set: export "
                                 f"RUNNABLE_VAR_{name}=... (or STEPLINE_VAR_{name})")
        return self


@cache
def _no_override() -> StepOverride:
    """What a step without ``overrides.argo`` gets (never changed: templates copy what they use);
    made on first use, so importing the module builds no model."""
    return StepOverride()


class ArgoExecutor(RenderingExecutor):
    name: ClassVar[str] = "argo"
    runs_steps_in: ClassVar[Locality] = Locality.NETWORK
    Settings: ClassVar[type[Settings]] = ArgoSettings

    def locality_of(self, service: Component) -> Locality:
        """A service whose every local path lies on a mounted persistent volume reaches every pod, and
        so does one whose folder the pods move onto the volume (:meth:`moved_to`)."""
        if self._on_volumes(service) or self.moved_to(service) is not None:
            return Locality.NETWORK
        return service.locality

    def _on_volumes(self, service: Component) -> bool:
        # a catalog's compute data folder is each pod's own working folder, not shared state
        own = str(getattr(service, "compute_data_folder", "\0"))
        paths = [p for p in service.local_paths() if str(p) != own]
        mounts = [PurePosixPath(v.mount_path) for v in self.settings.persistent_volumes]
        return bool(paths and mounts and all(any(_under(PurePosixPath(p), m) for m in mounts) for p in paths))

    def moved_to(self, service: Component) -> str | None:
        """Where the pods keep a local run log store or catalog that is not on a mounted volume: in a
        folder of the shared volume (``pvc_for_runnable``'s, else the first persistent volume's), as
        runnable does with its file stores. None when the service stays where it is."""
        movable = MOVABLE.get((getattr(service, "kind", ""), getattr(service, "name", "")))
        volumes = self.settings.persistent_volumes
        if movable is None or not volumes or self._on_volumes(service):
            return None
        mount = next((v.mount_path for v in volumes if v.name == self.settings.pvc_for_runnable
                      and v.mount_path == RUNNABLE_MOUNT), volumes[0].mount_path)
        return str(PurePosixPath(mount) / movable[1])

    def moves(self, services: Any) -> list[tuple[str, str, str]]:
        """(stack, variable, folder) for each service of ``services`` the pods move onto the volume."""
        found = []
        for kind in ("run_log_store", "catalog"):
            service = getattr(services, kind, None)
            folder = self.moved_to(service) if service is not None else None
            if folder is not None:
                _, _, stack, variable = MOVABLE[service.kind, service.name]
                found.append((stack, variable, folder))
        return found

    def named_override(self, node: Any) -> StepOverride | None:
        """runnable's form: the step's ``overrides: {argo: NAME}`` picks the executor's ``overrides.NAME``."""
        named = (getattr(node, "overrides", None) or {}).get(self.name)
        if not isinstance(named, str):
            return None
        if named not in self.settings.overrides:
            from stepline.api import did_you_mean

            raise ConfigError(f"argo override '{named}' is not defined in the executor's overrides",
                              hint=did_you_mean(named, self.settings.overrides)
                              or f"defined: {', '.join(self.settings.overrides) or 'none'}")
        return self.settings.overrides[named]

    def check_step(self, node: Any, path: str) -> None:
        self.named_override(node)

    def render_text(self, job: RenderJob) -> str:
        return to_yaml(_Manifest(self, job).build())


def _merge_spec(given: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    """A user's workflow spec with Stepline's: ours wins, except that workflow parameters and volumes
    the user adds are kept next to ours."""
    merged = {**given, **ours}
    for key, inner in (("arguments", "parameters"), ("volumes", None)):
        if key not in given:
            continue
        if inner is None:
            merged[key] = [*ours.get(key, []), *given[key]]
        else:
            known = {p["name"] for p in ours.get(key, {}).get(inner, [])}
            extra = [p for p in (given[key] or {}).get(inner, []) if p.get("name") not in known]
            merged[key] = {inner: [*ours.get(key, {}).get(inner, []), *extra]}
    return merged


_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if value is None:
        return "null"
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text)  # a JSON string is a valid YAML double-quoted scalar


def to_yaml(data: Any) -> str:
    """Block-style YAML for the manifest's plain data (dicts, lists, scalars): deterministic, and an
    order of magnitude faster than PyYAML's representer on large workflows."""
    out: list[str] = []
    seen: dict[str, str] = {}  # a manifest repeats its keys and many values thousands of times

    def scalar(value: Any) -> str:
        if type(value) is not str:
            return _scalar(value)
        text = seen.get(value)
        if text is None:
            text = seen[value] = _scalar(value)
        return text

    def emit(value: Any, indent: str, lead: str) -> None:
        """``value``'s lines at ``indent``; the first line starts with ``lead`` instead (the same
        width: a parent list's ``- ``)."""
        if isinstance(value, dict):
            inner = indent + "  "
            for key, item in value.items():
                head = lead + (seen.get(key) or scalar(key)) + ":"
                lead = indent
                if type(item) is str:
                    out.append(head + " " + (seen.get(item) or scalar(item)))
                elif isinstance(item, dict) and item:
                    out.append(head)
                    emit(item, inner, inner)
                elif isinstance(item, list) and item:
                    out.append(head)
                    emit(item, indent, indent)
                else:
                    out.append(head + " " + (_empty(item) if isinstance(item, (dict, list)) else scalar(item)))
        else:
            inner = indent + "  "
            for item in value:
                if type(item) is str:
                    out.append(lead + "- " + (seen.get(item) or scalar(item)))
                elif isinstance(item, (dict, list)) and item:
                    emit(item, inner, lead + "- ")
                else:
                    out.append(lead + "- " + (_empty(item) if isinstance(item, (dict, list)) else scalar(item)))
                lead = indent

    emit(data, "", "")
    return "\n".join(out) + "\n"


def _empty(value: Any) -> str:
    return "{}" if isinstance(value, dict) else "[]"


def _under(path: PurePosixPath, mount: PurePosixPath) -> bool:
    return path.is_absolute() and (path == mount or mount in path.parents)


def _dump(model: BaseModel | None) -> dict:
    return model.model_dump(exclude_none=True, exclude_defaults=False) if model is not None else {}


class _Manifest:
    def __init__(self, executor: ArgoExecutor, job: RenderJob) -> None:
        self.settings: ArgoSettings = executor.settings
        self.executor = executor
        self.job = job
        self.names = NameBook()
        self.templates: list[dict] = []
        self.done: set[str] = set()
        self.resources: dict[int, dict[str, Any]] = {}  # id of a Resources model (alive as long as us) -> dump
        self.moves = executor.moves(job.services)

    # ---- the workflow ---------------------------------------------------------------------------
    def build(self) -> dict:
        s = self.settings
        params = self.scalar_parameters()
        entry = self.names.name("stepline")
        finish = self.names.name("finish-run")
        start = self.names.name("start-run")
        self.templates.append(self.container_template(finish, finish_run_command(RUN_ID, *self.files())))
        self.templates.append(self.container_template(start, start_run_command(RUN_ID, *self.files(),
                                                                                self.job.params_file),
                                                      env=[{"name": f"STEPLINE_PRM_{n}",
                                                            "value": f"{{{{workflow.parameters.{n}}}}}"}
                                                           for n in params]))
        top = self.graph_template(self.job.graph, "", start_task=start)
        self.templates.insert(0, {"name": entry, "dag": {"tasks": [{"name": "pipeline", "template": top}]}})
        spec: dict[str, Any] = {"entrypoint": entry, "onExit": finish}
        if s.service_account_name:
            spec["serviceAccountName"] = s.service_account_name
        if s.parallelism:
            spec["parallelism"] = s.parallelism
        if s.active_deadline_seconds:
            spec["activeDeadlineSeconds"] = s.active_deadline_seconds
        spec["arguments"] = {"parameters": [{"name": "run_id", "value": "{{workflow.uid}}"}] + [
            {"name": n, "value": json.dumps(v)} for n, v in params.items()]}
        if s.persistent_volumes:
            spec["volumes"] = [{"name": self.volume_name(i), "persistentVolumeClaim": {"claimName": v.name}}
                               for i, v in enumerate(s.persistent_volumes)]
        spec["templates"] = self.templates
        metadata: dict[str, Any] = {"generateName": s.name}
        if s.namespace:
            metadata["namespace"] = s.namespace
        if s.argo_workflow is not None:  # runnable's argoWorkflow: its metadata and spec keys pass through
            metadata.update(s.argo_workflow.metadata)
            spec = _merge_spec(s.argo_workflow.spec, spec)
        if s.defaults is not None:
            template_defaults = {key: value for key, value in (
                ("activeDeadlineSeconds", s.defaults.active_deadline_seconds),
                ("timeout", s.defaults.timeout)) if value is not None}
            if template_defaults:
                spec["templateDefaults"] = {**template_defaults, **spec.get("templateDefaults", {})}
        if s.cron_schedule:
            cron = s.cron_schedule if isinstance(s.cron_schedule, CronSchedule) else CronSchedule(
                schedules=[s.cron_schedule])
            name = str(metadata.pop("generateName", "")).rstrip("-") or "stepline"
            cron_spec: dict[str, Any] = {"schedules": list(cron.schedules)}
            if cron.timezone:
                cron_spec["timezone"] = cron.timezone
            cron_spec["workflowSpec"] = spec
            return {"apiVersion": "argoproj.io/v1alpha1", "kind": "CronWorkflow",
                    "metadata": {"name": metadata.pop("name", name), **metadata}, "spec": cron_spec}
        return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": metadata, "spec": spec}

    def files(self) -> tuple[str, str | None]:
        """The pipeline and the configuration reference the pods are given: the job's, plus the
        stacks that move local stores onto the shared volume."""
        stacks = [f"stack:{stack}" for stack, _, _ in self.moves]
        config = ",".join([*([self.job.config_file] if self.job.config_file else []), *stacks]) or None
        return self.job.pipeline_file, config

    def scalar_parameters(self) -> dict[str, Any]:
        found = {}
        for name, value in self.job.initial_parameters().items():
            if isinstance(value, (str, int, float, bool)) or value is None:
                if name == "run_id" or not _PARAM_NAME.match(name):
                    raise ConfigError(f"parameter '{name}' cannot be an Argo workflow parameter",
                                      file=self.job.params_file,
                                      hint="rename it: letters, digits, '_' and '-', and not run_id")
                found[name] = value
        return found

    def volume_name(self, index: int) -> str:
        return f"stepline-volume-{index}"

    # ---- templates --------------------------------------------------------------------------------
    def container_template(self, name: str, command: list[str], *, node: Any = None, inputs: list[str] = (),
                           output: str | None = None, env: list[dict] = ()) -> dict:
        s = self.settings
        override = self.override(node)
        container: dict[str, Any] = {"image": override.image or s.image, "command": command}
        pull = override.image_pull_policy or s.image_pull_policy
        if pull:
            container["imagePullPolicy"] = pull
        container["env"] = [{"name": "STEPLINE_RUN_ID", "value": RUN_ID}, *env,
                            *({"name": variable, "value": folder} for _, variable, folder in self.moves)] + [
            {"name": x.environment_variable,
             "valueFrom": {"secretKeyRef": {"name": x.secret_name, "key": x.secret_key}}}
            for x in s.secrets_from_k8s]
        if s.defaults is not None:
            container["env"] += [{"name": e.name, "value": e.value} for e in s.defaults.env]
        if override.env:
            container["env"] += [{"name": e.name, "value": e.value} for e in override.env]
        if s.secret_from_k8s and node is not None:  # runnable: the task's secrets, by name, from one secret
            container["env"] += [{"name": n, "valueFrom": {"secretKeyRef": {"name": s.secret_from_k8s, "key": n}}}
                                 for n in getattr(node, "secrets", [])]
        resources = self.dumped(override.resources or s.resources)
        if resources:
            container["resources"] = {k: dict(v) for k, v in resources.items()}
        if s.persistent_volumes:
            container["volumeMounts"] = [{"name": self.volume_name(i), "mountPath": v.mount_path}
                                         for i, v in enumerate(s.persistent_volumes)]
        template: dict[str, Any] = {"name": name}
        if inputs:
            template["inputs"] = {"parameters": [{"name": n} for n in inputs]}
        if output:
            template["outputs"] = {"parameters": [{"name": output, "valueFrom": {"path": FAN_FILE}}]}
        template["container"] = container
        selector = override.node_selector if override.node_selector is not None else s.node_selector
        if selector:
            template["nodeSelector"] = dict(selector)
        tolerations = override.tolerations if override.tolerations is not None else s.tolerations
        if tolerations:
            template["tolerations"] = [_dump(t) for t in tolerations]
        if override.active_deadline_seconds:
            template["activeDeadlineSeconds"] = override.active_deadline_seconds
        if override.timeout:
            template["timeout"] = override.timeout
        attempts = getattr(node, "max_attempts", 1) if node is not None else 1
        if attempts > 1:  # Stepline retries failures itself; Argo retries pods that errored (evicted, OOM)
            retry: dict[str, Any] = {"limit": attempts - 1, "retryPolicy": "OnError"}
            retry.update(_backoff(node))
            template["retryStrategy"] = retry
        return template

    def dumped(self, resources: Resources) -> dict[str, Any]:
        """A container's ``resources`` (empty parts left out), dumped once per model: most steps share
        the executor's."""
        found = self.resources.get(id(resources))
        if found is None:
            found = self.resources[id(resources)] = {k: v for k, v in _dump(resources).items() if v}
        return found

    def override(self, node: Any) -> StepOverride:
        named = self.executor.named_override(node) if node is not None else None
        if named is not None:
            return named
        raw = self.executor.step_overrides(node) if node is not None else {}
        if not raw:
            return _no_override()
        try:
            return StepOverride.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise ConfigError(f"argo override '{where}': {err['msg']}", file=self.job.pipeline_file,
                              hint="overrides.argo takes image, image_pull_policy, resources, node_selector, "
                                   "tolerations, env, active_deadline_seconds, timeout") from None

    def leaf_template(self, node: Any, template_path: str) -> str:
        name = self.names.name(template_path)
        if name not in self.done:
            self.done.add(name)
            command = single_node_command(RUN_ID, "{{inputs.parameters.path}}", *self.files())
            try:
                self.templates.append(self.container_template(name, command, node=node, inputs=["path"]))
            except StepLineError as exc:
                raise exc.with_context(step=template_path) from None
        return name

    def fan_template(self, template_path: str, direction: str, loop: bool) -> str:
        name = self.names.name(f"{template_path} {direction}")
        if name not in self.done:
            self.done.add(name)
            command = fan_command(RUN_ID, "{{inputs.parameters.path}}", direction, *self.files(),
                                  iteration="{{inputs.parameters.iteration}}" if loop else None,
                                  output_file=FAN_FILE)
            self.templates.append(self.container_template(
                name, command, inputs=["path", "iteration"] if loop else ["path"],
                output="verdict" if direction == "in" else "branches"))
        return name

    def graph_template(self, graph: Any, template_path: str, start_task: str | None = None) -> str:
        """A DAG template walking ``graph``; nested graphs take the branch prefix as input ``prefix``."""
        name = self.names.name(f"graph {template_path}" if template_path else "pipeline")
        if name in self.done:
            return name
        self.done.add(name)
        template: dict[str, Any] = {"name": name}
        self.templates.append(template)  # reserve its place: nested templates follow it
        tasks_book = NameBook()
        reachable = reachable_from(graph, graph.start_at, at_run_time=True)
        steps = [s for s in graph.steps if s in reachable]
        done_expr: dict[str, tuple[str, str]] = {}  # step -> (succeeded expression, failed expression)
        tasks: list[dict] = []
        prefix = "{{inputs.parameters.prefix}}" if template_path else ""

        def path_of(step: str) -> str:
            return f"{prefix}.{step}" if prefix else step

        if start_task:
            tasks.append({"name": "start-run", "template": start_task})
        incoming: dict[str, list[str]] = {s: [] for s in steps}
        for step in steps:
            node = graph.steps[step]
            if node.terminal:
                continue
            incoming[node.next].append(f"{step}\0ok")
            incoming[graph.failure_target(step)].append(f"{step}\0fail")
        for step in _ordered(graph, steps):
            node = graph.steps[step]
            inner = f"{template_path}.{step}" if template_path else step
            depends = " || ".join(
                f"({done_expr[src][0] if how == 'ok' else done_expr[src][1]})"
                for src, how in (e.split("\0") for e in incoming[step]))
            if step == graph.start_at and start_task:
                depends = "start-run.Succeeded"
            task_name = tasks_book.name(step)
            if node.composite:
                made, ok, failed = self.composite_tasks(node, inner, path_of(step), task_name, tasks_book)
                if depends:
                    made[0]["depends"] = depends
                tasks.extend(made)
                done_expr[step] = (ok, failed)
                continue
            if node.type not in ("task", "stub", "success", "fail"):
                raise NotSupportedError(f"the argo executor cannot render '{node.type}' steps",
                                        file=self.job.pipeline_file, step=inner,
                                        hint="use task, stub, parallel, map, conditional, loop or dag steps")
            task = {"name": task_name, "template": self.leaf_template(node, inner),
                    "arguments": {"parameters": [{"name": "path", "value": path_of(step)}]}}
            if depends:
                task["depends"] = depends
            tasks.append(task)
            done_expr[step] = (f"{task_name}.Succeeded", f"{task_name}.Failed || {task_name}.Errored")
        if template_path:
            template["inputs"] = {"parameters": [{"name": "prefix"}]}
        template["failFast"] = False
        template["dag"] = {"tasks": tasks}
        return name

    def composite_tasks(self, node: Any, inner: str, path: str, task: str, book: NameBook):
        from stepline.api import dump_keys

        kind = node.type
        if kind not in ("map", "parallel", "conditional", "dag", "loop"):
            raise NotSupportedError(f"the argo executor cannot render '{kind}' steps", file=self.job.pipeline_file,
                                    step=inner, hint="use parallel, map, conditional, loop or dag")
        path_arg = {"parameters": [{"name": "path", "value": path}]}
        if kind == "loop":
            loop = self.loop_template(node, inner)
            name = book.name(f"{task} loop")
            made = [{"name": name, "template": loop, "arguments": {"parameters": [
                {"name": "path", "value": path}, {"name": "iteration", "value": "0"}]}}]
            return made, f"{name}.Succeeded", f"{name}.Failed || {name}.Errored"
        out = book.name(f"{task} out")
        fan_in = book.name(f"{task} in")
        made = [{"name": out, "template": self.fan_template(inner, "out", False), "arguments": path_arg}]
        branch_tasks = []
        if kind == "map":
            body = self.graph_template(node.branch, f"{inner}.*")
            branch = book.name(f"{task} branches")
            made.append({"name": branch, "template": body, "depends": f"{out}.Succeeded",
                         "withParam": f"{{{{tasks.{out}.outputs.parameters.branches}}}}",
                         "arguments": {"parameters": [{"name": "prefix", "value": f"{path}.{{{{item}}}}"}]}})
            branch_tasks.append(branch)
        else:
            for key, graph in node.branch_graphs().items():
                if not _SAFE_KEY.match(key):
                    raise NotSupportedError(f"the argo executor cannot render branch name {key!r}",
                                            file=self.job.pipeline_file, step=inner,
                                            hint="branch names without quotes, backslashes or braces")
                body = self.graph_template(graph, f"{inner}.{key}")
                branch = book.name(f"{task} {key}")
                entry = {"name": branch, "template": body, "depends": f"{out}.Succeeded",
                         "arguments": {"parameters": [{"name": "prefix", "value": f"{path}.{key}"}]}}
                if kind == "conditional":
                    entry["when"] = (f"'{{{{tasks.{out}.outputs.parameters.branches}}}}' == "
                                     f"'{dump_keys([key])}'")
                made.append(entry)
                branch_tasks.append(branch)
        ended = " && ".join(f"({b}.Succeeded || {b}.Failed || {b}.Errored || {b}.Skipped)" for b in branch_tasks)
        made.append({"name": fan_in, "template": self.fan_template(inner, "in", False), "arguments": path_arg,
                     "depends": f"{out}.Succeeded && {ended}"})
        return made, f"{fan_in}.Succeeded", f"{out}.Failed || {out}.Errored || {fan_in}.Failed || {fan_in}.Errored"

    def loop_template(self, node: Any, inner: str) -> str:
        """One iteration per call: fan out, the body, fan in, and (when fan in says ``continue``) itself
        again with the next iteration; ``fan in`` never says continue at ``max_iterations - 1``."""
        name = self.names.name(f"loop {inner}")
        if name in self.done:
            return name
        self.done.add(name)
        template: dict[str, Any] = {"name": name}
        self.templates.append(template)
        body = self.graph_template(node.branch, f"{inner}.*")
        args = {"parameters": [{"name": "path", "value": "{{inputs.parameters.path}}"},
                               {"name": "iteration", "value": "{{inputs.parameters.iteration}}"}]}
        template.update({
            "inputs": {"parameters": [{"name": "path"}, {"name": "iteration"}]},
            "failFast": False,
            "dag": {"tasks": [
                {"name": "out", "template": self.fan_template(inner, "out", True), "arguments": args},
                {"name": "body", "template": body, "depends": "out.Succeeded", "arguments": {"parameters": [
                    {"name": "prefix", "value": "{{inputs.parameters.path}}.{{inputs.parameters.iteration}}"}]}},
                {"name": "in", "template": self.fan_template(inner, "in", True), "arguments": args,
                 "depends": "out.Succeeded && (body.Succeeded || body.Failed || body.Errored)"},
                {"name": "next", "template": name, "depends": "in.Succeeded",
                 "when": "'{{tasks.in.outputs.parameters.verdict}}' == 'continue'",
                 "arguments": {"parameters": [
                     {"name": "path", "value": "{{inputs.parameters.path}}"},
                     {"name": "iteration", "value": "{{=asInt(inputs.parameters.iteration) + 1}}"}]}},
            ]}})
        return name


def _ordered(graph: Any, steps: list[str]) -> list[str]:
    """Steps in an order where every step comes after the steps that lead to it (the graph is acyclic):
    a depth-first post-order, reversed. Iterative, since a chain of steps is as deep as it is long."""
    order: list[str] = []
    seen: set[str] = set()
    wanted = set(steps)
    for root in steps:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(reversed(run_targets(graph, root))))]
        while stack:
            step, targets = stack[-1]
            for target in targets:
                if target in wanted and target not in seen:
                    seen.add(target)
                    stack.append((target, iter(reversed(run_targets(graph, target)))))
                    break
            else:
                stack.pop()
                order.append(step)
    return list(reversed(order))


def _seconds(value: float) -> str:
    return f"{int(value) if float(value).is_integer() else value}s"


def _backoff(node: Any) -> dict[str, Any]:
    """Argo's ``backoff`` for a step's ``retry_delay_seconds`` and ``retry_backoff``: ``duration``,
    ``factor`` and ``cap`` mean what Stepline's delay, factor and max_seconds mean. Argo has no
    jitter; the step's own retries (inside the pod) apply it."""
    delay = getattr(node, "retry_delay_seconds", 0)
    if not delay:
        return {}
    backoff: dict[str, Any] = {"duration": _seconds(delay)}
    policy = getattr(node, "retry_backoff", None)
    if policy is not None:
        factor = policy.factor
        backoff["factor"] = int(factor) if float(factor).is_integer() else str(factor)
        if policy.max_seconds:
            backoff["cap"] = _seconds(policy.max_seconds)
    return {"backoff": backoff}
