"""Secrets types ``aws-secrets-manager`` and ``aws-ssm-parameter-store`` (boto3, imported on first use).

Credentials come from the standard AWS chain (environment, profile, instance or pod role), never
from the config file. ``region``, ``endpoint_url`` and ``profile`` default to the standard AWS
environment (``AWS_DEFAULT_REGION``/``AWS_REGION``, ``AWS_ENDPOINT_URL``, ``AWS_PROFILE``).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from stepline.api import Locality, SecretNotFoundError, Secrets, Settings, StepLineError

_DENIED = {"AccessDeniedException", "AccessDenied", "UnrecognizedClientException",
           "InvalidSignatureException", "ExpiredTokenException"}


class AwsSettings(Settings):
    region: str | None = None
    endpoint_url: str | None = None
    profile: str | None = None


class _AwsSecrets(Secrets):
    service: ClassVar[str]

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self._client: Any = None
        self._cache: dict[str, str] = {}

    @property
    def locality(self) -> Locality:
        return Locality.NETWORK

    def client(self) -> Any:
        if self._client is None:
            import boto3
            import botocore.exceptions

            s = self.settings
            try:
                session = boto3.session.Session(profile_name=s.profile, region_name=s.region)
                self._client = session.client(self.service, endpoint_url=s.endpoint_url)
            except botocore.exceptions.ProfileNotFound:
                raise StepLineError(f"secrets '{self.name}': AWS profile '{s.profile}' is not configured",
                                    hint="fix 'profile' or ~/.aws/config") from None
            except botocore.exceptions.NoRegionError:
                raise StepLineError(f"secrets '{self.name}': no AWS region",
                                    hint="set secrets.config.region or export AWS_DEFAULT_REGION") from None
        return self._client

    def _call(self, name: str, what: str, fn, **kwargs) -> dict[str, Any]:
        """Call boto3, turning its errors into one-line errors that name the secret."""
        import botocore.exceptions

        try:
            return fn(**kwargs)
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("ResourceNotFoundException", "ParameterNotFound"):
                raise self.missing(name, hint=f"there is no {what}") from None
            if code in _DENIED:
                raise SecretNotFoundError(f"secret '{name}': access denied reading {what} ({code})",
                                          hint="grant this identity read access to it") from None
            raise SecretNotFoundError(f"secret '{name}': reading {what} failed ({code or 'error'})",
                                      hint="check the name, region and endpoint") from None
        except botocore.exceptions.NoCredentialsError:
            raise StepLineError(f"secrets '{self.name}': no AWS credentials found",
                                hint="export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, set a profile, "
                                     "or give the machine or pod a role") from None
        except botocore.exceptions.BotoCoreError as exc:
            raise StepLineError(f"secret '{name}': cannot reach AWS {self.service} "
                                f"({type(exc).__name__})", hint="check region and endpoint_url") from None


# ---- Secrets Manager ----------------------------------------------------------------------------------
class SecretsManagerSettings(AwsSettings):
    secret_id: str | None = None
    """A JSON secret whose keys are the secret names; unset: each name is a secret id of its own."""


class SecretsManagerSecrets(_AwsSecrets):
    """AWS Secrets Manager: the keys of one JSON secret, or one plain-string secret per name."""

    name: ClassVar[str] = "aws-secrets-manager"
    service: ClassVar[str] = "secretsmanager"
    Settings: ClassVar[type[Settings]] = SecretsManagerSettings

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self._json: dict[str, Any] | None = None

    def get(self, name: str) -> str:
        secret_id = self.settings.secret_id
        if secret_id is None:
            if name not in self._cache:
                self._cache[name] = self._value(name, name)
            return self._cache[name]
        if self._json is None:
            text = self._value(name, secret_id)
            try:
                document = json.loads(text)
            except ValueError:
                document = None
            if not isinstance(document, dict):
                # never echo the text: it is a secret
                raise SecretNotFoundError(f"secret '{name}': secret '{secret_id}' is not a JSON object",
                                          hint="store a JSON object of NAME: value pairs, or unset "
                                               "secret_id to read one secret per name")
            self._json = document
        if name not in self._json:
            raise self.missing(name, hint=f"no key '{name}' in secret '{secret_id}'; keys there: "
                                          f"{', '.join(sorted(self._json)) or 'none'}")
        value = self._json[name]
        return value if isinstance(value, str) else json.dumps(value)

    def _value(self, name: str, secret_id: str) -> str:
        client = self.client()
        response = self._call(name, f"secret '{secret_id}' in Secrets Manager", client.get_secret_value,
                              SecretId=secret_id)
        if "SecretString" in response:
            return response["SecretString"]
        try:
            return bytes(response["SecretBinary"]).decode("utf-8")
        except UnicodeDecodeError:
            raise SecretNotFoundError(f"secret '{name}': secret '{secret_id}' is binary, not text",
                                      hint="store it as a string") from None


# ---- SSM Parameter Store ------------------------------------------------------------------------------
class ParameterStoreSettings(AwsSettings):
    path_prefix: str = ""
    """Prepended to each name: ``/app/prod`` + ``API_KEY`` reads ``/app/prod/API_KEY``."""


class ParameterStoreSecrets(_AwsSecrets):
    """AWS SSM Parameter Store: one parameter per name (SecureString decrypted)."""

    name: ClassVar[str] = "aws-ssm-parameter-store"
    service: ClassVar[str] = "ssm"
    Settings: ClassVar[type[Settings]] = ParameterStoreSettings

    def parameter_name(self, name: str) -> str:
        prefix = self.settings.path_prefix
        return f"{prefix.rstrip('/')}/{name}" if prefix else name

    def get(self, name: str) -> str:
        if name not in self._cache:
            parameter = self.parameter_name(name)
            client = self.client()
            response = self._call(name, f"parameter '{parameter}' in SSM Parameter Store",
                                  client.get_parameter, Name=parameter, WithDecryption=True)
            self._cache[name] = response["Parameter"]["Value"]
        return self._cache[name]
