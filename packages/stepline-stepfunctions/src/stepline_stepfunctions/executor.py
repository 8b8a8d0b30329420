"""The ``step-functions`` executor: renders a pipeline as an Amazon States Language state machine.

It does not traverse: AWS Step Functions does, and every rendered Task state calls back into
Stepline (``stepline execute-single-node`` for a leaf, ``stepline fan ... out|in`` around a
composite) inside an AWS Batch job or an ECS task. See :mod:`stepline_stepfunctions.render`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator
from stepline.api import Locality, RenderingExecutor, Settings


class StepFunctionsSettings(Settings):
    output_file: str = "state-machine.json"
    output_format: Literal["asl", "cloudformation"] = "asl"
    state_machine_name: str | None = None
    role_arn: str | None = None
    comment: str | None = None
    # where steps run
    compute: Literal["batch", "ecs"] = "batch"
    job_queue: str | None = None
    job_definition: str | None = None
    cluster: str | None = None
    task_definition: str | None = None
    container_name: str | None = None
    launch_type: Literal["FARGATE", "EC2"] = "FARGATE"
    subnets: list[str] = Field(default_factory=list)
    security_groups: list[str] = Field(default_factory=list)
    assign_public_ip: bool = False
    environment: dict[str, str] = Field(default_factory=dict)
    # the files every step is called with, as seen inside the container
    pipeline_file: str | None = None
    config_file: str | None = None
    parameters_file: str | None = None
    stepline_command: list[str] = Field(default_factory=lambda: ["stepline"])
    # composites
    map_mode: Literal["inline", "distributed"] = "inline"
    max_concurrency: int = Field(0, ge=0)
    exchange_location: str | None = None
    # retries of AWS-side errors (the step's own retries run inside the container)
    retry_errors: list[str] = Field(default_factory=lambda: [
        "Batch.AWSBatchException", "Batch.ServerException", "ECS.AmazonECSException", "ECS.ServerException"])
    backoff_rate: float = Field(2.0, ge=1.0)
    timeout_seconds: int | None = Field(None, gt=0)
    # test-only: replace every Task state by Pass / Fail stand-ins (see docs/step-functions.md)
    stand_in_tasks: bool = False
    stand_in_failures: list[str] = Field(default_factory=list)
    stand_in_results: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _compute_complete(self) -> StepFunctionsSettings:
        if self.stand_in_tasks:
            return self
        if self.compute == "batch":
            missing = [k for k in ("job_queue", "job_definition") if not getattr(self, k)]
        else:
            missing = [k for k in ("cluster", "task_definition", "container_name") if not getattr(self, k)]
            if self.launch_type == "FARGATE" and not self.subnets:
                missing.append("subnets")
        if missing:
            raise ValueError(f"compute '{self.compute}' needs {', '.join(missing)}")
        if self.output_format == "cloudformation" and not self.role_arn:
            raise ValueError("output_format 'cloudformation' needs role_arn (the state machine's IAM role)")
        if self.exchange_location is not None and not self.exchange_location.startswith("s3://"):
            raise ValueError("exchange_location must be an s3:// URL, e.g. s3://my-bucket/stepline")
        return self


class StepFunctionsExecutor(RenderingExecutor):
    name: ClassVar[str] = "step-functions"
    renders: ClassVar[bool] = True
    runs_steps_in: ClassVar[Locality] = Locality.NETWORK
    Settings: ClassVar[type] = StepFunctionsSettings

    def render_text(self, job) -> str:
        """The state machine (or CloudFormation template) of ``job`` as deterministic JSON text;
        ``render(job)`` (from the base class) writes it to ``output_file``."""
        from stepline_stepfunctions.render import render_text

        return render_text(job.graph, self, pipeline_file=job.pipeline_file, config_file=job.config_file,
                           params_file=job.params_file)
