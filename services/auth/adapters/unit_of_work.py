"""Auth's unit of work on PostgreSQL: the connections (adapters/repository.py's SQL) on
one pooled connection, and the refresh lock as a session advisory lock on it."""

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from uuid import UUID

import asyncpg

from services.auth.adapters import repository as sql
from services.auth.service_layer.unit_of_work import (
    AuthUnitOfWork,
    LockBusy,
    Rotation,
    Row,
    UnitOfWorkFactory,
)
from shared.outbox import HandOff
from shared.unit_of_work import PostgresUnitOfWork


class PgConnections:
    def __init__(self, uow: PostgresUnitOfWork) -> None:
        self.uow = uow

    async def get(self, connection_id: UUID) -> Row | None:
        return await sql.connection(self.uow.conn, connection_id)

    async def mark_refresh_sent(self, connection_id: UUID, at: datetime) -> None:
        await sql.mark_refresh_sent(await self.uow.writer(), connection_id, at)

    async def store_rotation(self, connection_id: UUID, rotation: Rotation) -> None:
        await sql.store_rotation(await self.uow.writer(), connection_id, rotation)

    async def record_failure(self, connection_id: UUID, error: str,
                             not_before: datetime) -> None:
        await sql.record_failure(await self.uow.writer(), connection_id, error, not_before)

    async def mark_needs_reauth(self, connection_id: UUID, reason: str) -> Row | None:
        return await sql.mark_needs_reauth(await self.uow.writer(), connection_id, reason)

    async def reseal(self, connection_id: UUID, sealed: dict[str, str]) -> None:
        await sql.reseal(await self.uow.writer(), connection_id, sealed)

    async def end(self, connection_id: UUID, status: str) -> None:
        await sql.end_connection(await self.uow.writer(), connection_id, status)

    async def stores_sharing_xero_user(self, row: Row) -> list[str]:
        return await sql.stores_sharing_xero_user(self.uow.conn, row)

    async def stores_sharing_xero_connection(self, row: Row) -> list[str]:
        return await sql.stores_sharing_xero_connection(self.uow.conn, row)

    async def sealed_under_other_keys(self, key_id: str, limit: int) -> list[UUID]:
        return await sql.sealed_under_other_keys(self.uow.conn, key_id, limit)

    async def due_for_keepalive(self, before: datetime, limit: int) -> list[UUID]:
        return await sql.due_for_keepalive(self.uow.conn, before, limit)

    async def forget_old_attempts(self, before: datetime) -> int:
        return await sql.forget_old_attempts(await self.uow.writer(), before)


class PgAuthUnitOfWork(AuthUnitOfWork, PostgresUnitOfWork):
    def __init__(self, pool: asyncpg.Pool, handed: HandOff | None = None) -> None:
        PostgresUnitOfWork.__init__(self, pool, handed)
        self.connections = PgConnections(self)

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
