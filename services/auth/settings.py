"""Settings of the auth service (environment variables, see `.env.example`)."""

from pydantic import Field, SecretStr

# A well-known key for development only: refused with real Xero, a warning otherwise.
from shared.security import DEV_ENCRYPTION_KEYS
from shared.settings import ServiceSettings


class AuthSettings(ServiceSettings):
    host: str = Field("127.0.0.1", alias="AUTH_HOST")
    port: int = Field(8001, alias="AUTH_PORT")
    # Where a browser reaches this service: the OAuth callback is built from it.
    public_url: str = Field("http://127.0.0.1:8001", alias="AUTH_PUBLIC_URL")
    # "k2:<base64 of 32 bytes>,k1:<...>": the first encrypts, all of them decrypt, so a
    # key can be rotated in without losing the connections sealed under the old one.
    encryption_keys: SecretStr = Field(SecretStr(DEV_ENCRYPTION_KEYS), alias="AUTH_ENCRYPTION_KEYS")
    # How long a connect link (its OAuth `state`) stays usable.
    state_ttl_s: int = Field(900, alias="AUTH_STATE_TTL_S")
    # How many unexpired connect links one store may have open (anonymous setups must
    # not grow the database without bound), and how long a reconnect token lasts.
    max_pending_attempts: int = Field(5, alias="AUTH_MAX_PENDING_ATTEMPTS")
    max_open_attempts: int = Field(10_000, alias="AUTH_MAX_OPEN_ATTEMPTS")
    reconnect_token_ttl_s: int = Field(86_400, alias="AUTH_RECONNECT_TOKEN_TTL_S")
    # An access token is handed out only while it stays valid for at least this long.
    min_validity_s: int = Field(300, alias="AUTH_MIN_VALIDITY_S")
    # Refresh tokens die after 60 days unused: refresh quiet connections well before.
    keepalive_days: float = Field(45, alias="AUTH_KEEPALIVE_DAYS")
    keepalive_interval_s: float = Field(3600, alias="AUTH_KEEPALIVE_INTERVAL_S")
    # After a failed refresh wait base * 2^(failures-1) seconds, at most max.
    refresh_cooldown_s: float = Field(5, alias="AUTH_REFRESH_COOLDOWN_S")
    refresh_cooldown_max_s: float = Field(900, alias="AUTH_REFRESH_COOLDOWN_MAX_S")
    # How long a caller waits for another process's refresh before a 503.
    lock_wait_s: float = Field(60, alias="AUTH_LOCK_WAIT_S")
    # How long start-up waits for the broker before serving without it (events wait in
    # the outbox and /readyz reports the broker missing until it connects).
    broker_wait_s: float = Field(10.0, alias="AUTH_BROKER_WAIT_S")

    @property
    def callback_url(self) -> str:
        return self.public_url.rstrip("/") + "/v1/connect/callback"

    @property
    def uses_dev_keys(self) -> bool:
        return self.encryption_keys.get_secret_value() == DEV_ENCRYPTION_KEYS
