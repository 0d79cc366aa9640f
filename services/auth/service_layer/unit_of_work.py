"""The ports auth's use cases work through: a unit of work with the connections, the
connect attempts and the reconnect tokens; the lock under which one connection's refresh
token is spent (once, whichever replica asks); and Xero's identity endpoints.
`adapters/unit_of_work.py` and `adapters/xero.py` are the real ones; the tests have
in-memory ones."""

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from services.auth.domain.connect import Tenant
from services.auth.domain.records import (
    AttemptRecord,
    ConnectionRecord,
    NewAttempt,
    NewConnection,
    ParkedPick,
    PreviousConnection,
    StoreMove,
    TakenPick,
)
from services.auth.domain.tokens import TokenSet
from shared.unit_of_work import AbstractUnitOfWork


class LockBusy(Exception):
    """Another refresh of the connection held the lock longer than the wait."""


@dataclass(frozen=True)
class Rotation:
    access_token_sealed: str
    access_expires_at: datetime
    refresh_token_sealed: str
    previous_refresh_token_sealed: str
    previous_first_used_at: datetime | None
    scope: str
    at: datetime


class XeroIdentity(Protocol):
    """Xero's identity endpoints; failures are `adapters/xero.py`'s exceptions."""

    async def authorization_url(self, state: str, code_verifier: str,
                                redirect_uri: str) -> str: ...

    async def exchange_code(self, code: str, code_verifier: str,
                            redirect_uri: str) -> TokenSet: ...

    async def refresh(self, refresh_token: str) -> TokenSet: ...

    async def connections(self, access_token: str) -> list[Tenant]: ...

    async def delete_connection(self, access_token: str, xero_connection_id: str) -> None: ...

    async def revoke(self, refresh_token: str) -> None: ...


class ConnectionRepository(Protocol):
    async def get(self, connection_id: UUID) -> ConnectionRecord | None: ...

    async def live_for_store(self, store_id: str) -> ConnectionRecord | None:
        """The store's live (active or needs-reauth) connection, locked until the unit of
        work ends: a connect of the store elsewhere waits for this one."""
        ...

    async def live_id_for_store(self, store_id: str) -> UUID | None:
        """The id of the store's live connection, unlocked."""
        ...

    async def latest_for_store(self, store_id: str) -> PreviousConnection | None:
        """The store's most recent connection, live or ended."""
        ...

    async def add(self, new: NewConnection) -> None: ...

    async def record_move(self, move: StoreMove) -> None: ...

    async def mark_refresh_sent(self, connection_id: UUID, at: datetime) -> None:
        """Notes when the current refresh token was first sent (kept if already noted)."""
        ...

    async def store_rotation(self, connection_id: UUID, rotation: Rotation) -> None: ...

    async def record_failure(self, connection_id: UUID, error: str,
                             not_before: datetime) -> None: ...

    async def mark_needs_reauth(self, connection_id: UUID, reason: str
                                ) -> tuple[str, UUID] | None:
        """Moves an active connection to needs-reauth, its tokens deleted; its store_id
        and tenant_id, or None when it was not active."""
        ...

    async def reseal(self, connection_id: UUID, sealed: dict[str, str]) -> None: ...

    async def end(self, connection_id: UUID, status: str) -> None:
        """Retires or disconnects it: its tokens are deleted, its key stops working."""
        ...

    async def stores_sharing_xero_user(self, row: ConnectionRecord) -> list[str]: ...

    async def stores_sharing_xero_connection(self, row: ConnectionRecord) -> list[str]: ...

    async def sealed_under_other_keys(self, key_id: str, limit: int) -> list[UUID]: ...

    async def due_for_keepalive(self, before: datetime, limit: int) -> list[UUID]: ...

    async def forget_old_attempts(self, before: datetime) -> int: ...


class AttemptRepository(Protocol):
    async def add(self, attempt: NewAttempt) -> None: ...

    async def get(self, attempt_id: str) -> AttemptRecord | None: ...

    async def by_state(self, state: str) -> AttemptRecord | None: ...

    async def pending(self, store_id: str | None, now: datetime) -> int:
        """Unexpired, unused attempts of a store (None: of every store)."""
        ...

    async def bind_browser(self, attempt_id: str, browser_hash: bytes) -> bool:
        """Binds the attempt to the browser, or checks it is the one bound first."""
        ...

    async def consume_state(self, state: str, now: datetime) -> AttemptRecord | None:
        """Marks the state used: of two callbacks with one state, one wins (the other
        gets None)."""
        ...

    async def set_outcome(self, attempt_id: str, outcome: str) -> None: ...

    async def park_for_pick(self, attempt_id: str, pick_id: str, tokens_sealed: str,
                            tenants: list[Tenant], expires_at: datetime) -> None: ...

    async def parked_pick(self, pick_id: str, now: datetime) -> ParkedPick | None: ...

    async def take_pick(self, pick_id: str, now: datetime) -> TakenPick | None:
        """Takes the parked tokens once: the pick form cannot be submitted twice."""
        ...


class ReconnectTokenRepository(Protocol):
    async def issue(self, token_hash: bytes, store_id: str, expires_at: datetime) -> None:
        """Keeps a new token's hash; earlier unused tokens of the store stop working."""
        ...

    async def use(self, token_hash: bytes, store_id: str, now: datetime) -> bool:
        """Spends the token once: True when it was this store's, unused and unexpired."""
        ...


class AuthUnitOfWork(AbstractUnitOfWork):
    connections: ConnectionRepository
    attempts: AttemptRepository
    reconnect_tokens: ReconnectTokenRepository

    def refresh_lock(self, connection_id: UUID, wait_s: float
                     ) -> contextlib.AbstractAsyncContextManager[None]:
        """Held by one unit of work at a time across every replica, until the block ends
        (or its holder dies); LockBusy after `wait_s`. Take it before the first write:
        the steps under it commit one by one."""
        raise NotImplementedError


UnitOfWorkFactory = Callable[[], AuthUnitOfWork]
