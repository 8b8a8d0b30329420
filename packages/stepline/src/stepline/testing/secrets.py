"""The contract every secrets backend meets, as a pytest class suite.

A backend package subclasses :class:`SecretsContract` in its tests and provides one fixture,
``make_secrets``: a callable that stores the given ``{name: value}`` pairs in the backend (a
file, a server, the environment) and returns a backend instance that reads them::

    from stepline.testing.secrets import SecretsContract

    class TestMyBackend(SecretsContract):
        @pytest.fixture
        def make_secrets(self, tmp_path):
            def make(values):
                ...  # store values
                return MySecrets.from_config({...})
            return make

The suite then checks, against that instance: known secrets come back exactly and as ``str``;
a missing secret raises :class:`~stepline.errors.SecretNotFoundError` whose one-line message names
the secret and contains no secret value; repeated reads agree; ``describe()`` holds no value.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from stepline.errors import SecretNotFoundError, StepLineError
from stepline.secrets.base import Secrets

#: What ``make_secrets`` is asked to store. The values carry characters that quoting, URL or JSON
#: handling tends to damage (``=``, ``/``, ``+``, ``@``, ``:``, ``#``, ``$``, a space).
KNOWN_SECRETS: dict[str, str] = {
    "API_KEY": "sk-live-7Hq2+/Zx=9",
    "DB_PASSWORD": "p@ss:w0rd #$x y",
}

MakeSecrets = Callable[[dict[str, str]], Secrets]


class SecretsContract:
    """Subclass and provide a ``make_secrets`` fixture (see the module docstring)."""

    known_secrets: dict[str, str] = KNOWN_SECRETS

    @pytest.fixture
    def make_secrets(self) -> MakeSecrets:  # pragma: no cover - must be overridden
        pytest.fail("a SecretsContract subclass must provide a 'make_secrets' fixture", pytrace=False)

    @pytest.fixture
    def secrets_backend(self, make_secrets: MakeSecrets) -> Secrets:
        backend = make_secrets(dict(self.known_secrets))
        assert isinstance(backend, Secrets), f"make_secrets returned {type(backend)!r}, not a Secrets"
        return backend

    # ---- reading --------------------------------------------------------------------------------
    def test_known_secrets_come_back_exactly(self, secrets_backend: Secrets) -> None:
        for name, value in self.known_secrets.items():
            assert secrets_backend.get(name) == value

    def test_values_are_strings(self, secrets_backend: Secrets) -> None:
        for name in self.known_secrets:
            assert type(secrets_backend.get(name)) is str

    def test_repeated_gets_agree(self, secrets_backend: Secrets) -> None:
        first = {name: secrets_backend.get(name) for name in self.known_secrets}
        again = {name: secrets_backend.get(name) for name in reversed(list(self.known_secrets))}
        assert first == again == self.known_secrets

    def test_a_fresh_instance_reads_the_same(self, make_secrets: MakeSecrets) -> None:
        one = make_secrets(dict(self.known_secrets))
        two = make_secrets(dict(self.known_secrets))
        for name in self.known_secrets:
            assert one.get(name) == two.get(name) == self.known_secrets[name]

    # ---- missing secrets ------------------------------------------------------------------------
    def test_missing_secret_raises_secret_not_found(self, secrets_backend: Secrets) -> None:
        with pytest.raises(SecretNotFoundError) as info:
            secrets_backend.get("NO_SUCH_SECRET_XYZ")
        assert isinstance(info.value, StepLineError)
        message = str(info.value)
        assert "NO_SUCH_SECRET_XYZ" in message
        assert "\n" not in message, f"the message is not one line: {message!r}"

    def test_missing_secret_message_holds_no_value(self, secrets_backend: Secrets) -> None:
        secrets_backend.get("API_KEY")  # whatever a backend caches is now loaded
        with pytest.raises(SecretNotFoundError) as info:
            secrets_backend.get("NO_SUCH_SECRET_XYZ")
        shown = " ".join([str(info.value), repr(info.value), repr(info.value.args),
                          str(info.value.hint or "")])
        for value in self.known_secrets.values():
            assert value not in shown

    def test_a_miss_does_not_spoil_later_reads(self, secrets_backend: Secrets) -> None:
        with pytest.raises(SecretNotFoundError):
            secrets_backend.get("NO_SUCH_SECRET_XYZ")
        assert secrets_backend.get("DB_PASSWORD") == self.known_secrets["DB_PASSWORD"]
        with pytest.raises(SecretNotFoundError):
            secrets_backend.get("NO_SUCH_SECRET_XYZ")

    def test_names_are_case_sensitive(self, secrets_backend: Secrets) -> None:
        with pytest.raises(SecretNotFoundError):
            secrets_backend.get("api_key")

    # ---- never shown ----------------------------------------------------------------------------
    def test_describe_holds_no_value(self, secrets_backend: Secrets) -> None:
        secrets_backend.get("API_KEY")
        secrets_backend.get("DB_PASSWORD")
        described = repr(secrets_backend.describe())
        for value in self.known_secrets.values():
            assert value not in described
        assert secrets_backend.describe()["type"] == secrets_backend.name
