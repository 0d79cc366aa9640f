"""What auth keeps about connections, connect attempts and store moves, as the service
layer reads and writes them: plain values, whatever stores them."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from services.auth.domain.connect import AttemptView, Tenant

SEALED_COLUMNS = ("access_token", "refresh_token", "previous_refresh_token")


@dataclass(frozen=True)
class ConnectionRecord:
    """A store's connection to one Xero organisation, its tokens sealed."""

    id: UUID
    store_id: str
    tenant_id: UUID
    tenant_name: str
    status: str
    key_hash: bytes
    xero_connection_id: str | None = None
    auth_event_id: str | None = None
    xero_user_id: str | None = None
    scope: str = ""
    access_token_sealed: str | None = None
    access_expires_at: datetime | None = None
    refresh_token_sealed: str | None = None
    refresh_first_used_at: datetime | None = None
    previous_refresh_token_sealed: str | None = None
    previous_first_used_at: datetime | None = None
    last_refreshed_at: datetime | None = None
    refresh_count: int = 0
    refresh_failures: int = 0
    refresh_not_before: datetime | None = None
    last_refresh_error: str | None = None
    reauth_reason: str | None = None
    replaces: UUID | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    ended_at: datetime | None = None

    def sealed(self, column: str) -> str | None:
        """The sealed value of `column`, one of SEALED_COLUMNS."""
        if column not in SEALED_COLUMNS:
            raise ValueError(f"no sealed column {column!r}")
        value: str | None = getattr(self, f"{column}_sealed")
        return value

    def __repr__(self) -> str:  # sealed tokens and the key hash stay out of logs
        return (f"ConnectionRecord(id={self.id}, store_id={self.store_id!r}, "
                f"status={self.status!r})")


@dataclass(frozen=True)
class PreviousConnection:
    """The organisation a store's most recent connection (live or ended) posted to."""

    id: UUID
    tenant_id: UUID
    tenant_name: str


@dataclass(frozen=True)
class NewConnection:
    id: UUID
    store_id: str
    tenant: Tenant
    scope: str
    key_hash: bytes
    access_token_sealed: str
    access_expires_at: datetime
    refresh_token_sealed: str
    auth_event_id: str | None
    xero_user_id: str | None
    replaces: UUID | None = None


@dataclass(frozen=True)
class NewAttempt:
    id: str
    state: str
    store_id: str
    scenario: str
    code_verifier_sealed: str
    expires_at: datetime
    proof: str = "none"
    proved_connection_id: UUID | None = None


@dataclass(frozen=True)
class AttemptRecord(NewAttempt):
    """A connect attempt: a setup's link, its OAuth state and what its setup proved."""

    browser_hash: bytes | None = None
    used_at: datetime | None = None
    outcome: str | None = None
    pick_id: str | None = None
    pending_tokens_sealed: str | None = None
    pending_tenants: tuple[Tenant, ...] = ()
    pick_expires_at: datetime | None = None
    created_at: datetime | None = None

    @property
    def view(self) -> AttemptView:
        return AttemptView(self.used_at, self.expires_at)


@dataclass(frozen=True)
class ParkedPick:
    """An attempt waiting for the person to pick an organisation."""

    id: str
    store_id: str
    proved_connection_id: UUID | None
    browser_hash: bytes | None
    tenants: tuple[Tenant, ...]


@dataclass(frozen=True)
class TakenPick:
    """A pick taken (once): the attempt and the tokens that waited for it."""

    id: str
    store_id: str
    scenario: str
    proof: str
    proved_connection_id: UUID | None
    pending_tokens_sealed: str | None


@dataclass(frozen=True)
class StoreMove:
    store_id: str
    from_tenant_id: UUID
    from_tenant_name: str
    to_tenant_id: UUID
    to_tenant_name: str
    from_connection_id: UUID
    to_connection_id: UUID
    proof: str
