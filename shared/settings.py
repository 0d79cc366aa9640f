"""Settings every service shares. Each service extends `ServiceSettings` with its own."""

from pydantic import Field, SecretStr
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
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    db_pool_min: int = Field(1, alias="DB_POOL_MIN")
    db_pool_max: int = Field(10, alias="DB_POOL_MAX")
    prefetch: int = Field(50, alias="AMQP_PREFETCH")
    publish_timeout_s: float = Field(10.0, alias="AMQP_PUBLISH_TIMEOUT_S")


class OpsSettings(BaseSettings):
    """The ops credential alone (what `glbridge ops` presents)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    ops_token: SecretStr = Field(SecretStr(DEV_OPS_TOKEN), alias="OPS_TOKEN")


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
        """Whether Xero is the sandbox (not real Xero): where development defaults are
        allowed (shared/security.py)."""
        return "xero.com" not in self.token_url
