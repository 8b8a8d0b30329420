"""Hook implementations of stepline-aws. Importing this module does not import boto3."""

from __future__ import annotations

from urllib.parse import urlparse

from stepline.api import Locality, Problem, hookimpl

_LOOPBACK = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


@hookimpl
def stepline_components():
    from stepline_aws.secrets import ParameterStoreSecrets, SecretsManagerSecrets

    return [SecretsManagerSecrets, ParameterStoreSecrets]


@hookimpl
def stepline_check_integration(executor, service):
    from stepline_aws.secrets import ParameterStoreSecrets, SecretsManagerSecrets

    if not isinstance(service, (SecretsManagerSecrets, ParameterStoreSecrets)):
        return []
    endpoint = service.settings.endpoint_url
    runs_in = getattr(executor, "runs_steps_in", Locality.PROCESS)
    if endpoint and runs_in >= Locality.NETWORK and (urlparse(endpoint).hostname or "") in _LOOPBACK:
        return [Problem.warning(f"secrets '{service.name}' uses endpoint_url {endpoint} under executor "
                f"'{executor.name}', whose steps run on other machines, where that address is the "
                "machine itself; use an address the steps can reach")]
    return []
