"""Settings every service shares. Each service extends `ServiceSettings` with its own."""

from collections.abc import Callable
from typing import Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development credentials: publicly known, refused at start-up with real Xero
# (shared/security.py names whichever is still in use).
DEV_TOTALS_SERVICE_TOKEN = "dev-totals-service-token"
DEV_POSTING_SERVICE_TOKEN = "dev-posting-service-token"
DEV_OPS_TOKEN = "dev-ops-token"


class ServiceSettings(BaseSettings):
    """Read from environment variables (and a `.env` file), documented in `.env.example`."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    amqp_url: str = Field("amqp://guest:guest@127.0.0.1:5672/", alias="AMQP_URL")
    database_url: str = Field("postgresql://postgres@127.0.0.1:5432/glbridge", alias="DATABASE_URL")
    # Queue and exchange names live under a namespace so test runs on one vhost never cross.
    amqp_namespace: str = Field("glbridge", alias="AMQP_NAMESPACE")
    # Each caller's own credential, so auth tells totals from posting and opens each only
    # what it needs: totals verifies keys and asks for reconnect tokens; posting fetches
    # access tokens. The ops credential opens the ops monitor (a person types it) and
    # posting's status API; it opens nothing of auth's.
    totals_service_token: SecretStr = Field(
        SecretStr(DEV_TOTALS_SERVICE_TOKEN), alias="TOTALS_SERVICE_TOKEN"
    )
    posting_service_token: SecretStr = Field(
        SecretStr(DEV_POSTING_SERVICE_TOKEN), alias="POSTING_SERVICE_TOKEN"
    )
    ops_token: SecretStr = Field(SecretStr(DEV_OPS_TOKEN), alias="OPS_TOKEN")
    # Behind TLS: browsers are told to use HTTPS only (Strict-Transport-Security).
    hsts: bool = Field(False, alias="HSTS")
    # The Host names requests may carry (comma-separated; "*": any). Set them in
    # production, e.g. "bridge.example.com,auth,totals,posting".
    allowed_hosts: str = Field("*", alias="ALLOWED_HOSTS")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    # "auto": readable lines on a terminal, JSON otherwise.
    log_format: Literal["auto", "json", "console"] = Field("auto", alias="LOG_FORMAT")
    db_pool_min: int = Field(1, alias="DB_POOL_MIN")
    db_pool_max: int = Field(10, alias="DB_POOL_MAX")
    prefetch: int = Field(50, alias="AMQP_PREFETCH")
    publish_timeout_s: float = Field(10.0, alias="AMQP_PUBLISH_TIMEOUT_S")


class OpsSettings(BaseSettings):
    """The ops credential alone (what `glbridge ops` presents)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    ops_token: SecretStr = Field(SecretStr(DEV_OPS_TOKEN), alias="OPS_TOKEN")


T = TypeVar("T")


class ConfigurationRefused(SystemExit):
    """A configuration that cannot work: the service refuses to start and says why."""


# Xero's endpoints (developer.xero.com "oauth2/auth-flow" and "api/accounting/overview").
XERO_ENDPOINTS = {
    "authorize_url": "https://login.xero.com/identity/connect/authorize",
    "token_url": "https://identity.xero.com/connect/token",
    "revocation_url": "https://identity.xero.com/connect/revocation",
    "connections_url": "https://api.xero.com/connections",
    "api_url": "https://api.xero.com/api.xro/2.0",
}
SANDBOX_PATHS = {
    "authorize_url": "/identity/connect/authorize",
    "token_url": "/connect/token",
    "revocation_url": "/connect/revocation",
    "connections_url": "/connections",
    "api_url": "/api.xro/2.0",
}
# The development client the sandbox knows: never valid at Xero.
DEV_CLIENT_ID = "glbridge-dev"
DEV_CLIENT_SECRET = "glbridge-dev-secret"


class XeroSettings(BaseSettings):
    """Where Xero is. `XERO_ENV` picks every endpoint: `sandbox` (the default, the local
    Xero sandbox at `XERO_SANDBOX_URL`) or `xero` (real Xero). An `XERO_*_URL` set
    explicitly wins over the one `XERO_ENV` picks. A configuration that cannot work is
    refused when the settings are read (`problems()` names each reason)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    env: Literal["sandbox", "xero"] = Field("sandbox", alias="XERO_ENV")
    # Where services reach the sandbox, and where a browser does (compose: they differ).
    sandbox_url: str = Field("http://127.0.0.1:8010", alias="XERO_SANDBOX_URL")
    sandbox_public_url: str = Field("", alias="XERO_SANDBOX_PUBLIC_URL")
    client_id: str = Field(DEV_CLIENT_ID, alias="XERO_CLIENT_ID")
    client_secret: SecretStr = Field(SecretStr(DEV_CLIENT_SECRET), alias="XERO_CLIENT_SECRET")
    authorize_url: str = Field("", alias="XERO_AUTHORIZE_URL")
    token_url: str = Field("", alias="XERO_TOKEN_URL")
    revocation_url: str = Field("", alias="XERO_REVOCATION_URL")
    connections_url: str = Field("", alias="XERO_CONNECTIONS_URL")
    api_url: str = Field("", alias="XERO_API_URL")
    scopes: str = Field(
        "offline_access accounting.manualjournals accounting.settings.read", alias="XERO_SCOPES"
    )
    timeout_s: float = Field(20.0, alias="XERO_TIMEOUT_S")

    @model_validator(mode="after")
    def _endpoints_from_env(self) -> "XeroSettings":
        for name in SANDBOX_PATHS:
            if not getattr(self, name):
                setattr(self, name, self._default_endpoint(name))
        problems = self.problems()
        if problems:
            raise ValueError("Xero configuration cannot work: " + "; ".join(problems))
        return self

    def _default_endpoint(self, name: str) -> str:
        if self.env == "xero":
            return XERO_ENDPOINTS[name]
        base = self.sandbox_url
        if name == "authorize_url":
            base = self.sandbox_public_url or self.sandbox_url
        return base.rstrip("/") + SANDBOX_PATHS[name]

    @property
    def is_sandbox(self) -> bool:
        return self.env == "sandbox"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def problems(self) -> list[str]:
        """Why this configuration cannot work, one reason each (empty: it can)."""
        return scope_problems(self.scope_list) + self._endpoint_problems() + self._client_problems()

    def _endpoint_problems(self) -> list[str]:
        problems = []
        for name in SANDBOX_PATHS:
            url = getattr(self, name)
            host = urlsplit(url).hostname or ""
            at_xero = host == "xero.com" or host.endswith(".xero.com")
            if self.env == "xero" and not (at_xero and url.startswith("https://")):
                problems.append(
                    f"XERO_ENV=xero but XERO_{name.upper()} is {url!r}: "
                    f"use {XERO_ENDPOINTS[name]} (or unset it)"
                )
            if self.env == "sandbox" and at_xero:
                problems.append(
                    f"XERO_{name.upper()} is Xero's ({url}) but XERO_ENV is sandbox: "
                    "set XERO_ENV=xero for real Xero"
                )
        return problems

    def _client_problems(self) -> list[str]:
        problems = [] if self.timeout_s > 0 else ["XERO_TIMEOUT_S must be more than 0"]
        if self.env != "xero":
            return problems
        if not self.client_id or self.client_id == DEV_CLIENT_ID:
            problems.append("XERO_ENV=xero needs XERO_CLIENT_ID: your app's client id "
                            "(developer.xero.com/app/manage)")
        secret = self.client_secret.get_secret_value()
        if not secret or secret == DEV_CLIENT_SECRET:
            problems.append("XERO_ENV=xero needs XERO_CLIENT_SECRET: your app's client secret "
                            "(developer.xero.com/app/manage)")
        return problems


# What the system calls needs these scopes (developer.xero.com "oauth2/scopes"): a refresh
# token only with offline_access, manual journals to post, settings to read the chart, the
# organisation and its lock dates. accounting.settings (read and write) covers the read.
REQUIRED_SCOPES: dict[str, tuple[str, ...]] = {
    "offline_access": ("offline_access",),
    "accounting.manualjournals": ("accounting.manualjournals", "accounting.transactions"),
    "accounting.settings.read": ("accounting.settings.read", "accounting.settings"),
}
SCOPE_PURPOSE = {
    "offline_access": "without it Xero issues no refresh token and every connection dies "
                      "after 30 minutes",
    "accounting.manualjournals": "needed to post journals (apps made before 2 March 2026 may "
                                 "use accounting.transactions)",
    "accounting.settings.read": "needed to read the chart of accounts and lock dates",
}


def missing_scopes(granted: list[str]) -> list[str]:
    """The required scopes none of whose forms is among `granted`."""
    have = set(granted)
    return [name for name, forms in REQUIRED_SCOPES.items() if not have.intersection(forms)]


def scope_problems(granted: list[str]) -> list[str]:
    return [f"XERO_SCOPES lacks {name}: {SCOPE_PURPOSE[name]}" for name in missing_scopes(granted)]


def refuse_unworkable(read: Callable[[], T]) -> T:
    """Reads settings; on a configuration that cannot work, exits naming every reason."""
    try:
        return read()
    except ValidationError as exc:
        reasons = [str(error["msg"]).removeprefix("Value error, ") for error in exc.errors()]
        raise ConfigurationRefused(
            "configuration refused:\n  - " + "\n  - ".join(reasons)
        ) from exc
