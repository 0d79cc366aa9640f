"""Settings every service shares. Each service extends `ServiceSettings` with its own."""

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Read from environment variables (and a `.env` file), documented in `.env.example`."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    amqp_url: str = Field("amqp://guest:guest@127.0.0.1:5672/", alias="AMQP_URL")
    database_url: str = Field("postgresql://postgres@127.0.0.1:5432/glbridge", alias="DATABASE_URL")
    # Queue and exchange names live under a namespace so test runs on one vhost never cross.
    amqp_namespace: str = Field("glbridge", alias="AMQP_NAMESPACE")
    # The credential services present to each other's internal endpoints.
    service_token: SecretStr = Field(SecretStr("dev-service-token"), alias="SERVICE_TOKEN")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    # "auto": readable lines on a terminal, JSON otherwise.
    log_format: Literal["auto", "json", "console"] = Field("auto", alias="LOG_FORMAT")
    db_pool_min: int = Field(1, alias="DB_POOL_MIN")
    db_pool_max: int = Field(10, alias="DB_POOL_MAX")
    prefetch: int = Field(50, alias="AMQP_PREFETCH")
    publish_timeout_s: float = Field(10.0, alias="AMQP_PUBLISH_TIMEOUT_S")


class XeroSettings(BaseSettings):
    """Where Xero is. The defaults point at the local Xero sandbox; real Xero is
    configuration only (see `.env.example`)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    client_id: str = Field("glbridge-dev", alias="XERO_CLIENT_ID")
    client_secret: SecretStr = Field(SecretStr("glbridge-dev-secret"), alias="XERO_CLIENT_SECRET")
    authorize_url: str = Field(
        "http://127.0.0.1:8010/identity/connect/authorize", alias="XERO_AUTHORIZE_URL"
    )
    token_url: str = Field("http://127.0.0.1:8010/connect/token", alias="XERO_TOKEN_URL")
    revocation_url: str = Field(
        "http://127.0.0.1:8010/connect/revocation", alias="XERO_REVOCATION_URL"
    )
    connections_url: str = Field("http://127.0.0.1:8010/connections", alias="XERO_CONNECTIONS_URL")
    api_url: str = Field("http://127.0.0.1:8010/api.xro/2.0", alias="XERO_API_URL")
    scopes: str = Field(
        "offline_access accounting.manualjournals accounting.settings.read", alias="XERO_SCOPES"
    )
    timeout_s: float = Field(20.0, alias="XERO_TIMEOUT_S")

    @property
    def is_sandbox(self) -> bool:
        return "xero.com" not in self.token_url
