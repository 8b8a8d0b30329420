"""Secrets type ``vault``: keys of a KV secret in HashiCorp Vault or OpenBao, read with hvac.

hvac is imported only when a secret is first read, so loading the plugin stays cheap.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ClassVar, Literal

from stepline.api import ConfigError, Locality, SecretNotFoundError, Secrets, Settings, StepLineError

DEFAULT_JWT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token"

#: Config keys that would put a credential in the config file, and where it goes instead.
_FORBIDDEN_KEYS = {
    "token": "do not put a Vault token in the config file; export VAULT_TOKEN instead",
    "secret_id": "do not put an AppRole secret id in the config file; put it in an environment "
                 "variable and name that variable in 'secret_id_env'",
    "jwt": "do not put a JWT in the config file; name the file that holds it in 'jwt_path'",
}


class VaultSettings(Settings):
    url: str | None = None
    """The server's address; default: the environment variable ``VAULT_ADDR``."""
    mount_point: str = "secret"
    """Where the KV secrets engine is mounted."""
    path: str = ""
    """The secret (below ``mount_point``) whose keys are the secret names."""
    kv_version: Literal[1, 2] = 2
    auth: Literal["token", "approle", "kubernetes"] = "token"
    auth_mount_point: str | None = None
    """Where the auth method is mounted; default ``approle`` / ``kubernetes``."""
    role_id: str | None = None
    """AppRole: the role id (not a credential on its own)."""
    secret_id_env: str = "VAULT_SECRET_ID"
    """AppRole: the name of the environment variable that holds the secret id."""
    role: str | None = None
    """Kubernetes: the Vault role to log in as."""
    jwt_path: str = DEFAULT_JWT_PATH
    """Kubernetes: the service account token file."""
    namespace: str | None = None
    """Vault Enterprise / OpenBao namespace, if any."""
    verify: bool | str = True
    """TLS verification: true, false, or the path of a CA bundle."""
    timeout: float = 30.0


class VaultSecrets(Secrets):
    """Secrets from the keys of one KV secret (``path``); ``other/path:key`` reads another secret.

    Each secret read is cached for the life of this instance (one run), so a step that asks
    for several keys of one path makes one request.
    """

    name: ClassVar[str] = "vault"
    Settings: ClassVar[type[Settings]] = VaultSettings

    def __init__(self, settings: VaultSettings | None = None) -> None:
        super().__init__(settings)
        self._client: Any = None
        self._cache: dict[str, dict[str, Any]] = {}

    @classmethod
    def from_config(cls, config: dict[str, Any] | None, *, source: str = "config") -> VaultSecrets:
        for key, why in _FORBIDDEN_KEYS.items():
            if config and key in config:
                raise ConfigError(f"secrets 'vault': setting '{key}' is not allowed", file=source, hint=why)
        backend = super().from_config(config, source=source)
        s = backend.settings
        if s.auth == "approle" and not s.role_id:
            raise ConfigError("secrets 'vault': auth 'approle' needs 'role_id'", file=source,
                              hint="set role_id, and the secret id in the variable named by secret_id_env")
        if s.auth == "kubernetes" and not s.role:
            raise ConfigError("secrets 'vault': auth 'kubernetes' needs 'role'", file=source,
                              hint="set role to the Vault role bound to the pod's service account")
        return backend

    @property
    def locality(self) -> Locality:
        return Locality.NETWORK

    def describe(self) -> dict[str, Any]:
        config = self.settings.model_dump(mode="json", exclude_none=True, exclude={"role_id"})
        return {"type": self.name, "config": config}

    # ---- reading --------------------------------------------------------------------------------
    def get(self, name: str) -> str:
        path, key = self._locate(name)
        data = self._read(name, path)
        if key not in data:
            raise self.missing(name, hint=f"no key '{key}' in {self.settings.mount_point}/{path}; "
                                          f"keys there: {', '.join(sorted(data)) or 'none'}")
        value = data[key]
        return value if isinstance(value, str) else json.dumps(value)

    def _locate(self, name: str) -> tuple[str, str]:
        if ":" in name:
            path, _, key = name.rpartition(":")
            if not path or not key:
                raise self.missing(name, hint="write a per-secret path as 'path/to/secret:key'")
            return path.strip("/"), key
        if not self.settings.path:
            raise self.missing(name, hint="set secrets.config.path, or name the secret as 'path:key'")
        return self.settings.path.strip("/"), name

    def _read(self, name: str, path: str) -> dict[str, Any]:
        if path in self._cache:
            return self._cache[path]
        import hvac.exceptions
        import requests.exceptions

        client = self._login()
        mount = self.settings.mount_point
        where = f"{mount}/{path}"
        try:
            if self.settings.kv_version == 2:
                response = client.secrets.kv.v2.read_secret_version(
                    path=path, mount_point=mount, raise_on_deleted_version=True)
                data = response["data"]["data"] or {}
            else:
                response = client.secrets.kv.v1.read_secret(path=path, mount_point=mount)
                data = response["data"] or {}
        except hvac.exceptions.InvalidPath:
            raise self.missing(name, hint=f"there is no secret at {where} (kv v{self.settings.kv_version})") \
                from None
        except hvac.exceptions.Forbidden:
            raise SecretNotFoundError(
                f"secret '{name}': permission denied reading {where} from {self._url()}",
                hint="grant this identity's Vault policy 'read' on that path") from None
        except hvac.exceptions.VaultError as exc:
            raise SecretNotFoundError(f"secret '{name}': Vault refused to read {where}: "
                                      f"{type(exc).__name__}", hint="check mount_point, path and kv_version") \
                from None
        except requests.exceptions.RequestException as exc:
            raise StepLineError(f"secret '{name}': cannot reach Vault at {self._url()} "
                                f"({type(exc).__name__})", hint="check url / VAULT_ADDR") from None
        self._cache[path] = data
        return data

    # ---- connecting -----------------------------------------------------------------------------
    def _url(self) -> str:
        url = self.settings.url or os.environ.get("VAULT_ADDR")
        if not url:
            raise ConfigError("secrets 'vault': no server address",
                              hint="set secrets.config.url or export VAULT_ADDR")
        return url

    def _login(self) -> Any:
        if self._client is not None:
            return self._client
        import hvac
        import hvac.exceptions
        import requests.exceptions

        s = self.settings
        client = hvac.Client(url=self._url(), verify=s.verify, timeout=s.timeout, namespace=s.namespace)
        try:
            if s.auth == "token":
                token = os.environ.get("VAULT_TOKEN")
                if not token:
                    raise StepLineError("secrets 'vault': auth 'token' but VAULT_TOKEN is not set",
                                        hint="export VAULT_TOKEN, or use auth 'approle' / 'kubernetes'")
                client.token = token
            elif s.auth == "approle":
                secret_id = os.environ.get(s.secret_id_env)
                if not secret_id:
                    raise StepLineError(f"secrets 'vault': auth 'approle' but {s.secret_id_env} is not set",
                                        hint=f"export {s.secret_id_env} with the AppRole secret id")
                client.auth.approle.login(role_id=s.role_id, secret_id=secret_id,
                                          mount_point=s.auth_mount_point or "approle")
            else:
                jwt_file = Path(s.jwt_path)
                try:
                    jwt = jwt_file.read_text().strip()
                except OSError as exc:
                    raise StepLineError(f"secrets 'vault': cannot read the service account token "
                                        f"{jwt_file} ({exc.strerror})",
                                        hint="run in a pod with a service account, or set jwt_path") from None
                client.auth.kubernetes.login(role=s.role, jwt=jwt,
                                             mount_point=s.auth_mount_point or "kubernetes")
        except hvac.exceptions.VaultError as exc:
            raise StepLineError(f"secrets 'vault': {s.auth} login to {self._url()} failed "
                                f"({type(exc).__name__})", hint="check the role and its credentials") from None
        except requests.exceptions.RequestException as exc:
            raise StepLineError(f"secrets 'vault': cannot reach Vault at {self._url()} "
                                f"({type(exc).__name__})", hint="check url / VAULT_ADDR") from None
        self._client = client
        return client
