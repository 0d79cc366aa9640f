"""The totals service's settings (environment variables, see `.env.example`)."""

from pydantic import Field

from shared.settings import ServiceSettings


class TotalsSettings(ServiceSettings):
    host: str = Field("127.0.0.1", alias="TOTALS_HOST")
    port: int = Field(8002, alias="TOTALS_PORT")
    auth_url: str = Field("http://127.0.0.1:8001", alias="AUTH_URL")
    auth_timeout_s: float = Field(10.0, alias="TOTALS_AUTH_TIMEOUT_S")
    # Posting checks a saved setup against the store's Xero organisation.
    posting_url: str = Field("http://127.0.0.1:8003", alias="POSTING_URL")
    setup_check_timeout_s: float = Field(20.0, alias="TOTALS_SETUP_CHECK_TIMEOUT_S")
    # The longest a POS may block on `GET .../days/{date}?wait=`.
    max_wait_s: float = Field(120.0, alias="TOTALS_MAX_WAIT_S")
    # Event streams and waiting GETs one store may hold open at once (429 past it).
    max_waits_per_store: int = Field(10, alias="TOTALS_MAX_WAITS_PER_STORE")
    # How long a POS request over AMQP may wait in the broker and still be acted on.
    pos_message_max_age_s: float = Field(7 * 86400, gt=0, alias="TOTALS_POS_MESSAGE_MAX_AGE_S")
    # How long start-up waits for the broker before serving without it (closes then wait
    # in the outbox and /readyz reports the broker missing until it connects).
    broker_wait_s: float = Field(10.0, alias="TOTALS_BROKER_WAIT_S")
    # Comment lines sent on an idle event stream, so proxies keep it open.
    sse_keepalive_s: float = Field(15.0, alias="TOTALS_SSE_KEEPALIVE_S")
    # The ops monitor (/ops, behind OPS_TOKEN): RabbitMQ's management API (else what
    # AMQP tells), and how often the page refreshes itself.
    rabbitmq_management_url: str | None = Field(None, alias="RABBITMQ_MANAGEMENT_URL")
    ops_refresh_s: float = Field(5.0, alias="OPS_REFRESH_S")
    # How long a sign-in lasts, and whether its cookie is sent over HTTPS only (set it
    # behind TLS: the service itself may see plain HTTP from the proxy).
    ops_session_ttl_s: int = Field(12 * 3600, alias="OPS_SESSION_TTL_S")
    ops_cookie_secure: bool = Field(False, alias="OPS_COOKIE_SECURE")
