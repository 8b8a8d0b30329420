"""Kubernetes auth (no Kubernetes here: a recording stand-in for Vault's HTTP API) and integration checks.

Kubernetes auth cannot be tested end to end on this machine (no API server to review the token),
so these tests check the exact login request hvac sends for us: the role, the JWT read from the
service account token file, the auth mount, and that the token Vault returns is used for reads.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from stepline.component import Locality
from stepline.errors import StepLineError
from stepline.plugins import Severity
from stepline.testing.integration import IntegrationCheckContract, executor_running_steps_in
from stepline_vault import plugin
from stepline_vault.secrets import DEFAULT_JWT_PATH, VaultSecrets


class Recorder(BaseHTTPRequestHandler):
    requests: ClassVar[list[tuple[str, str, dict, str | None]]] = []

    def _answer(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        self.requests.append(("POST", self.path, body, self.headers.get("X-Vault-Token")))
        self._answer({"auth": {"client_token": "token-from-k8s-login", "policies": ["default"],
                               "lease_duration": 60, "renewable": False}})

    def do_GET(self):
        self.requests.append(("GET", self.path, {}, self.headers.get("X-Vault-Token")))
        self._answer({"data": {"data": {"API_KEY": "k8s-read-value"}, "metadata": {"version": 1}}})

    def log_message(self, *args):
        pass


@pytest.fixture
def recording_vault():
    Recorder.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", Recorder.requests
    server.shutdown()
    server.server_close()


def test_kubernetes_login_sends_the_role_and_the_service_account_jwt(recording_vault, tmp_path, monkeypatch):
    url, requests = recording_vault
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    jwt_file = tmp_path / "token"
    jwt_file.write_text("eyJhbGciOi.header.payload\n")
    backend = VaultSecrets.from_config({"url": url, "path": "team/app", "auth": "kubernetes",
                                        "role": "pipelines", "jwt_path": str(jwt_file),
                                        "auth_mount_point": "k8s-prod"})
    assert backend.get("API_KEY") == "k8s-read-value"
    login, read = requests
    assert login[:3] == ("POST", "/v1/auth/k8s-prod/login",
                         {"role": "pipelines", "jwt": "eyJhbGciOi.header.payload"})
    assert read[:2] == ("GET", "/v1/secret/data/team/app") and read[3] == "token-from-k8s-login"
    backend.get("API_KEY")
    assert len(requests) == 2  # logged in once, read once: cached


def test_kubernetes_auth_defaults(recording_vault, tmp_path):
    url, requests = recording_vault
    backend = VaultSecrets.from_config({"url": url, "path": "p", "auth": "kubernetes", "role": "r"})
    assert backend.settings.jwt_path == DEFAULT_JWT_PATH == "/var/run/secrets/kubernetes.io/serviceaccount/token"
    backend.settings.jwt_path = str(tmp_path / "jwt")
    (tmp_path / "jwt").write_text("j")
    backend.get("API_KEY")
    assert requests[0][1] == "/v1/auth/kubernetes/login"


def test_kubernetes_auth_without_a_token_file_is_a_clear_error(tmp_path):
    backend = VaultSecrets.from_config({"url": "http://127.0.0.1:9", "path": "p", "auth": "kubernetes",
                                        "role": "r", "jwt_path": str(tmp_path / "absent")})
    with pytest.raises(StepLineError, match="cannot read the service account token .*absent"):
        backend.get("API_KEY")


def test_kubernetes_auth_needs_a_role():
    with pytest.raises(StepLineError, match="needs 'role'"):
        VaultSecrets.from_config({"path": "p", "auth": "kubernetes"})


# ---- integration checks -----------------------------------------------------------------------------
def test_token_auth_under_a_network_executor_warns():
    service = VaultSecrets.from_config({"path": "p"})
    problems = plugin.stepline_check_integration(executor_running_steps_in(Locality.NETWORK), service)
    assert len(problems) == 1 and problems[0].severity == Severity.WARNING
    assert "VAULT_TOKEN" in problems[0].message and "kubernetes" in problems[0].message


@pytest.mark.parametrize("where", [Locality.PROCESS, Locality.MACHINE])
def test_token_auth_on_this_machine_is_fine(where):
    service = VaultSecrets.from_config({"path": "p"})
    assert plugin.stepline_check_integration(executor_running_steps_in(where), service) == []


def test_kubernetes_auth_under_a_network_executor_is_fine():
    service = VaultSecrets.from_config({"path": "p", "auth": "kubernetes", "role": "r"})
    assert plugin.stepline_check_integration(executor_running_steps_in(Locality.NETWORK), service) == []


def test_the_plugin_manager_reports_the_warning_without_stopping_the_run():
    from stepline.plugins.manager import get_plugin_manager

    service = VaultSecrets.from_config({"path": "p"})
    warnings = get_plugin_manager().check_integration(executor_running_steps_in(Locality.NETWORK), [service])
    assert any("token auth" in w for w in warnings)


class TestVaultChecks(IntegrationCheckContract):
    """The vault plugin's checks pass the integration check kit."""

    @pytest.fixture
    def plugin(self):
        return plugin

    @pytest.fixture
    def services(self):
        return [VaultSecrets.from_config({"path": "p"}),
                VaultSecrets.from_config({"path": "p", "auth": "kubernetes", "role": "r"})]
