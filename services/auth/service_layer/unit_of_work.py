"""The ports auth's token vault works through: a unit of work with the connections, and
the lock under which one connection's refresh token is spent (once, whichever replica
asks). `adapters/unit_of_work.py` keeps them in PostgreSQL; the tests have in-memory
ones. A connection is read as a mapping of the columns of `auth.connections`."""

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from shared.unit_of_work import AbstractUnitOfWork

Row = Mapping[str, Any]


class LockBusy(Exception):
    """Another refresh of the connection held the lock longer than the wait."""


@dataclass(frozen=True)
class Rotation:
    access_token_sealed: str
    access_expires_at: datetime
    refresh_token_sealed: str
    previous_refresh_token_sealed: str
    previous_first_used_at: datetime
    scope: str
    at: datetime


class ConnectionRepository(Protocol):
    async def get(self, connection_id: UUID) -> Row | None: ...

    async def mark_refresh_sent(self, connection_id: UUID, at: datetime) -> None:
        """Notes when the current refresh token was first sent (kept if already noted)."""
        ...

    async def store_rotation(self, connection_id: UUID, rotation: Rotation) -> None: ...

    async def record_failure(self, connection_id: UUID, error: str,
                             not_before: datetime) -> None: ...

    async def mark_needs_reauth(self, connection_id: UUID, reason: str) -> Row | None:
        """Moves an active connection to needs-reauth, its tokens deleted; its store_id
        and tenant_id, or None when it was not active."""
        ...

    async def reseal(self, connection_id: UUID, sealed: dict[str, str]) -> None: ...

    async def end(self, connection_id: UUID, status: str) -> None:
        """Retires or disconnects it: its tokens are deleted, its key stops working."""
        ...

    async def stores_sharing_xero_user(self, row: Row) -> list[str]: ...

    async def stores_sharing_xero_connection(self, row: Row) -> list[str]: ...

    async def sealed_under_other_keys(self, key_id: str, limit: int) -> list[UUID]: ...

    async def due_for_keepalive(self, before: datetime, limit: int) -> list[UUID]: ...

    async def forget_old_attempts(self, before: datetime) -> int: ...


class AuthUnitOfWork(AbstractUnitOfWork):
    connections: ConnectionRepository

    def refresh_lock(self, connection_id: UUID, wait_s: float
                     ) -> contextlib.AbstractAsyncContextManager[None]:
        """Held by one unit of work at a time across every replica, until the block ends
        (or its holder dies); LockBusy after `wait_s`. Take it before the first write:
        the steps under it commit one by one."""
        raise NotImplementedError


UnitOfWorkFactory = Callable[[], AuthUnitOfWork]
