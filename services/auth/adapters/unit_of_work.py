"""Auth's unit of work on PostgreSQL: the connections, connect attempts and reconnect
tokens (adapters/repository.py's and adapters/proofs.py's SQL) on one pooled connection,
and the refresh lock as a session advisory lock on it."""

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from uuid import UUID

import asyncpg

from services.auth.adapters import proofs
from services.auth.adapters import repository as sql
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
from services.auth.service_layer.unit_of_work import (
    AuthUnitOfWork,
    LockBusy,
    Rotation,
    UnitOfWorkFactory,
)
from shared.outbox import HandOff
from shared.unit_of_work import PostgresUnitOfWork


class PgConnections:
    def __init__(self, uow: PostgresUnitOfWork) -> None:
        self.uow = uow

    async def get(self, connection_id: UUID) -> ConnectionRecord | None:
        return await sql.connection(self.uow.conn, connection_id)

    async def live_for_store(self, store_id: str) -> ConnectionRecord | None:
        # FOR UPDATE: inside the block's transaction, so the lock lasts until it ends.
        return await sql.live_connection_for_store(await self.uow.writer(), store_id)

    async def live_id_for_store(self, store_id: str) -> UUID | None:
        return await sql.live_connection_id(self.uow.conn, store_id)

    async def latest_for_store(self, store_id: str) -> PreviousConnection | None:
        return await proofs.latest_connection_for_store(self.uow.conn, store_id)

    async def add(self, new: NewConnection) -> None:
        await sql.insert_connection(await self.uow.writer(), new)

    async def record_move(self, move: StoreMove) -> None:
        await proofs.record_move(await self.uow.writer(), move)

    async def mark_refresh_sent(self, connection_id: UUID, at: datetime) -> None:
        await sql.mark_refresh_sent(await self.uow.writer(), connection_id, at)

    async def store_rotation(self, connection_id: UUID, rotation: Rotation) -> None:
        await sql.store_rotation(await self.uow.writer(), connection_id, rotation)

    async def record_failure(self, connection_id: UUID, error: str,
                             not_before: datetime) -> None:
        await sql.record_failure(await self.uow.writer(), connection_id, error, not_before)

    async def mark_needs_reauth(self, connection_id: UUID, reason: str
                                ) -> tuple[str, UUID] | None:
        return await sql.mark_needs_reauth(await self.uow.writer(), connection_id, reason)

    async def reseal(self, connection_id: UUID, sealed: dict[str, str]) -> None:
        await sql.reseal(await self.uow.writer(), connection_id, sealed)

    async def end(self, connection_id: UUID, status: str) -> None:
        await sql.end_connection(await self.uow.writer(), connection_id, status)

    async def stores_sharing_xero_user(self, row: ConnectionRecord) -> list[str]:
        return await sql.stores_sharing_xero_user(self.uow.conn, row)

    async def stores_sharing_xero_connection(self, row: ConnectionRecord) -> list[str]:
        return await sql.stores_sharing_xero_connection(self.uow.conn, row)

    async def sealed_under_other_keys(self, key_id: str, limit: int) -> list[UUID]:
        return await sql.sealed_under_other_keys(self.uow.conn, key_id, limit)

    async def due_for_keepalive(self, before: datetime, limit: int) -> list[UUID]:
        return await sql.due_for_keepalive(self.uow.conn, before, limit)

    async def forget_old_attempts(self, before: datetime) -> int:
        return await sql.forget_old_attempts(await self.uow.writer(), before)


class PgAttempts:
    def __init__(self, uow: PostgresUnitOfWork) -> None:
        self.uow = uow

    async def add(self, attempt: NewAttempt) -> None:
        await sql.insert_attempt(await self.uow.writer(), attempt)

    async def get(self, attempt_id: str) -> AttemptRecord | None:
        return await sql.attempt_by_id(self.uow.conn, attempt_id)

    async def by_state(self, state: str) -> AttemptRecord | None:
        return await sql.attempt_by_state(self.uow.conn, state)

    async def pending(self, store_id: str | None, now: datetime) -> int:
        return await proofs.pending_attempts(self.uow.conn, store_id, now)

    async def bind_browser(self, attempt_id: str, browser_hash: bytes) -> bool:
        return await sql.bind_browser(await self.uow.writer(), attempt_id, browser_hash)

    async def consume_state(self, state: str, now: datetime) -> AttemptRecord | None:
        return await sql.consume_state(await self.uow.writer(), state, now)

    async def set_outcome(self, attempt_id: str, outcome: str) -> None:
        await sql.set_outcome(await self.uow.writer(), attempt_id, outcome)

    async def park_for_pick(self, attempt_id: str, pick_id: str, tokens_sealed: str,
                            tenants: list[Tenant], expires_at: datetime) -> None:
        await sql.park_for_pick(await self.uow.writer(), attempt_id, pick_id, tokens_sealed,
                                tenants, expires_at)

    async def parked_pick(self, pick_id: str, now: datetime) -> ParkedPick | None:
        return await sql.parked_pick(self.uow.conn, pick_id, now)

    async def take_pick(self, pick_id: str, now: datetime) -> TakenPick | None:
        return await sql.take_pick(await self.uow.writer(), pick_id, now)


class PgReconnectTokens:
    def __init__(self, uow: PostgresUnitOfWork) -> None:
        self.uow = uow

    async def issue(self, token_hash: bytes, store_id: str, expires_at: datetime) -> None:
        await proofs.issue_reconnect_token(await self.uow.writer(), token_hash, store_id,
                                           expires_at)

    async def use(self, token_hash: bytes, store_id: str, now: datetime) -> bool:
        return await proofs.use_reconnect_token(await self.uow.writer(), token_hash, store_id,
                                                now)


class PgAuthUnitOfWork(AuthUnitOfWork, PostgresUnitOfWork):
    def __init__(self, pool: asyncpg.Pool, handed: HandOff | None = None) -> None:
        PostgresUnitOfWork.__init__(self, pool, handed)
        self.connections = PgConnections(self)
        self.attempts = PgAttempts(self)
        self.reconnect_tokens = PgReconnectTokens(self)

    @contextlib.asynccontextmanager
    async def refresh_lock(self, connection_id: UUID, wait_s: float) -> AsyncIterator[None]:
        """A session advisory lock: PostgreSQL releases it if this process dies."""
        key = f"auth-refresh:{connection_id}"
        try:
            await self.conn.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", key,
                                    timeout=wait_s)
        except TimeoutError as exc:
            raise LockBusy(str(connection_id)) from exc
        try:
            yield
        finally:
            # The pool also runs pg_advisory_unlock_all() when a connection returns.
            with contextlib.suppress(Exception):
                await self.conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))",
                                        key)


def unit_of_work(pool: asyncpg.Pool, handed: HandOff | None = None) -> UnitOfWorkFactory:
    return lambda: PgAuthUnitOfWork(pool, handed)
