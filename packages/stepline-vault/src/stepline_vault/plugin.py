"""Hook implementations of stepline-vault. Importing this module does not import hvac."""

from __future__ import annotations

from stepline.api import LazyComponent, Locality, Problem, hookimpl, loaded_instance

VAULT = "stepline_vault.secrets:VaultSecrets"


@hookimpl
def stepline_components():
    return [LazyComponent("secrets", "vault", VAULT)]


@hookimpl
def stepline_check_integration(executor, service):
    if not loaded_instance(service, VAULT):
        return []
    problems = []
    runs_in = getattr(executor, "runs_steps_in", Locality.PROCESS)
    if service.settings.auth == "token" and runs_in >= Locality.NETWORK:
        problems.append(Problem.warning(
            f"secrets 'vault' uses token auth under executor '{executor.name}', whose steps run "
            "on other machines: each pod needs VAULT_TOKEN in its own environment; prefer "
            "auth: kubernetes (the pod's service account) or approle"))
    if service.settings.auth == "kubernetes" and runs_in < Locality.NETWORK:
        problems.append(Problem.warning(
            f"secrets 'vault' uses kubernetes auth under executor '{executor.name}', whose steps "
            f"run on this machine: the service account token {service.settings.jwt_path} must exist here"))
    return problems
