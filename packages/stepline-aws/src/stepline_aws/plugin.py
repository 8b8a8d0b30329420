"""Hook implementations of stepline-aws. Importing this module does not import boto3."""

from __future__ import annotations

from urllib.parse import urlparse

from stepline.api import LazyComponent, Locality, Problem, hookimpl, loaded_instance

SECRETS_MANAGER = "stepline_aws.secrets:SecretsManagerSecrets"
PARAMETER_STORE = "stepline_aws.secrets:ParameterStoreSecrets"
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


@hookimpl
def stepline_components():
    return [LazyComponent("secrets", "aws-secrets-manager", SECRETS_MANAGER),
            LazyComponent("secrets", "aws-ssm-parameter-store", PARAMETER_STORE)]


@hookimpl
def stepline_check_integration(executor, service):
    if not (loaded_instance(service, SECRETS_MANAGER) or loaded_instance(service, PARAMETER_STORE)):
        return []
    endpoint = service.settings.endpoint_url
    runs_in = getattr(executor, "runs_steps_in", Locality.PROCESS)
    if endpoint and runs_in >= Locality.NETWORK and (urlparse(endpoint).hostname or "") in _LOOPBACK:
        return [Problem.warning(f"secrets '{service.name}' uses endpoint_url {endpoint} under executor "
                f"'{executor.name}', whose steps run on other machines, where that address is the "
                "machine itself; use an address the steps can reach")]
    return []
