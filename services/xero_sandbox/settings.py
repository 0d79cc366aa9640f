"""Sandbox settings, read from the environment (see README.md)."""

from pydantic import Field, SecretStr

from shared.settings import ServiceSettings


class SandboxSettings(ServiceSettings):
    host: str = Field("127.0.0.1", alias="SANDBOX_HOST")
    port: int = Field(8010, alias="SANDBOX_PORT")
    # The control API resets and rewires everything: off unless a test or demo asks for it.
    control_enabled: bool = Field(False, alias="SANDBOX_CONTROL_ENABLED")
    # Comma-separated callback URLs registered for the seeded `glbridge-dev` app.
    redirect_uris: str = Field(
        "http://127.0.0.1:8001/v1/connect/callback,http://localhost:8001/v1/connect/callback",
        alias="SANDBOX_REDIRECT_URIS",
    )
    # Signs the access tokens; a fixed default keeps tokens valid across a restart in demos.
    jwt_secret: SecretStr = Field(SecretStr("xero-sandbox-signing-key"), alias="SANDBOX_JWT_SECRET")
    # How long an Idempotency-Key is remembered (Xero does not document it; minutes).
    idempotency_ttl_s: int = Field(600, alias="SANDBOX_IDEMPOTENCY_TTL_S")
    # How long a "timeout" fault holds the answer back.
    fault_timeout_s: float = Field(60.0, alias="SANDBOX_FAULT_TIMEOUT_S")
    # Every request body checked against Xero's official spec (`spec/`), a body that
    # breaks it refused (the tests turn it on; it costs CPU per request).
    check_requests: bool = Field(False, alias="SANDBOX_CHECK_REQUESTS")
    # How many of the latest request bodies `GET /_control/requests` keeps.
    requests_kept: int = Field(200, alias="SANDBOX_REQUESTS_KEPT")

    @property
    def redirect_uri_list(self) -> list[str]:
        return [u.strip() for u in self.redirect_uris.split(",") if u.strip()]
