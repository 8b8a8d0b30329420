"""The compute states: the Task state that runs a container command on AWS Batch or ECS, its job
name and its Retry policy."""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

RUN_ID = "$$.Execution.Name"
_JOB_NAME_BAD = re.compile(r"[^A-Za-z0-9_-]+")


def job_name(label: str) -> str:
    """A Batch job name for the state ``label``: a slug plus a digest, so names stay unique."""
    slug = _JOB_NAME_BAD.sub("-", label).strip("-") or "step"
    digest = hashlib.sha256(label.encode()).hexdigest()[:8]
    return f"stepline-{slug[:100]}-{digest}"


def task_state(s, command: str, *, job: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """A ``batch:submitJob.sync`` or ``ecs:runTask.sync`` Task state running ``command`` (an
    intrinsic ``States.Array``), with the settings ``s`` and the step's ``overrides``."""
    env = [{"Name": "STEPLINE_RUN_ID", "Value.$": RUN_ID}]
    env += [{"Name": k, "Value": v} for k, v in sorted({**s.environment, **overrides.get("environment", {})}.items())]
    if s.compute == "batch":
        params: dict[str, Any] = {
            "JobName": job,
            "JobQueue": overrides.get("job_queue", s.job_queue),
            "JobDefinition": overrides.get("job_definition", s.job_definition),
            "ContainerOverrides": {"Command.$": command, "Environment": env},
        }
        resource = "arn:aws:states:::batch:submitJob.sync"
    else:
        params = {
            "LaunchType": s.launch_type,
            "Cluster": overrides.get("cluster", s.cluster),
            "TaskDefinition": overrides.get("task_definition", s.task_definition),
            "Overrides": {"ContainerOverrides": [{
                "Name": overrides.get("container_name", s.container_name),
                "Command.$": command, "Environment": env}]},
        }
        if s.subnets or s.security_groups:
            vpc: dict[str, Any] = {"Subnets": list(s.subnets)}
            if s.security_groups:
                vpc["SecurityGroups"] = list(s.security_groups)
            vpc["AssignPublicIp"] = "ENABLED" if s.assign_public_ip else "DISABLED"
            params["NetworkConfiguration"] = {"AwsvpcConfiguration": vpc}
        resource = "arn:aws:states:::ecs:runTask.sync"
    return {"Type": "Task", "Resource": resource, "Parameters": params, "ResultPath": None}


def reader_state(bucket: str, key: str, field: str) -> dict[str, Any]:
    """An ``aws-sdk:s3:getObject`` Task putting the JSON the relay stored at ``key`` into ``$.fan.<field>``."""
    return {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
            "Parameters": {"Bucket": bucket, "Key.$": key},
            "ResultSelector": {f"{field}.$": "States.StringToJson($.Body)"},
            "ResultPath": "$.fan",
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2.0}]}


def retry_policy(s, node) -> list[dict[str, Any]]:
    """The Retry of a step's Task state: its attempts, delay and backoff, on ``s.retry_errors``."""
    attempts = getattr(node, "max_attempts", 1)
    if attempts <= 1 or not s.retry_errors:
        return []
    delay = max(1, math.ceil(getattr(node, "retry_delay_seconds", 0) or 0))
    policy = getattr(node, "retry_backoff", None)
    retry = {"ErrorEquals": list(s.retry_errors), "IntervalSeconds": delay,
             "MaxAttempts": attempts - 1, "BackoffRate": policy.factor if policy else s.backoff_rate}
    if policy is not None and policy.max_seconds:
        retry["MaxDelaySeconds"] = max(1, math.ceil(policy.max_seconds))
    if policy is not None and policy.jitter:
        retry["JitterStrategy"] = "FULL"
    return [retry]
