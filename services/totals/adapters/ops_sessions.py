"""Sessions of the ops page, in PostgreSQL so every totals replica knows them."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import asyncpg


@dataclass(frozen=True)
class OpsSession:
    form_token: str
    expires_at: datetime


class OpsSessions(Protocol):
    async def open(self, ttl: timedelta) -> tuple[str, OpsSession]: ...
    async def find(self, cookie: str) -> OpsSession | None: ...
    async def close(self, cookie: str) -> None: ...
    async def flash(self, cookie: str, text: str, is_error: bool) -> None: ...
    async def take_flash(self, cookie: str) -> tuple[str, bool] | None: ...


def _hash(cookie: str) -> bytes:
    return hashlib.sha256(cookie.encode()).digest()


class PgOpsSessions:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def open(self, ttl: timedelta) -> tuple[str, OpsSession]:
        """A new session: the cookie value (only its hash is stored) and the session.
        Expired sessions are deleted on the way."""
        cookie = secrets.token_urlsafe(32)
        session = OpsSession(secrets.token_urlsafe(32), datetime.now(UTC) + ttl)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM ops_sessions WHERE expires_at <= now()")
            await conn.execute(
                "INSERT INTO ops_sessions (id_hash, form_token, expires_at) VALUES ($1, $2, $3)",
                _hash(cookie), session.form_token, session.expires_at)
        return cookie, session

    async def find(self, cookie: str) -> OpsSession | None:
        row = await self.pool.fetchrow(
            "SELECT form_token, expires_at FROM ops_sessions"
            " WHERE id_hash = $1 AND expires_at > now()", _hash(cookie))
        return None if row is None else OpsSession(row["form_token"], row["expires_at"])

    async def close(self, cookie: str) -> None:
        await self.pool.execute("DELETE FROM ops_sessions WHERE id_hash = $1", _hash(cookie))

    async def flash(self, cookie: str, text: str, is_error: bool) -> None:
        """Keeps what an action said for the next page of this session."""
        await self.pool.execute(
            "UPDATE ops_sessions SET flash = $2, flash_is_error = $3 WHERE id_hash = $1",
            _hash(cookie), text[:2000], is_error)

    async def take_flash(self, cookie: str) -> tuple[str, bool] | None:
        """The message kept for this session, once."""
        row = await self.pool.fetchrow(
            "UPDATE ops_sessions s SET flash = NULL FROM (SELECT id_hash, flash,"
            " flash_is_error FROM ops_sessions WHERE id_hash = $1 FOR UPDATE) old"
            " WHERE s.id_hash = old.id_hash AND old.flash IS NOT NULL"
            " RETURNING old.flash, old.flash_is_error", _hash(cookie))
        return None if row is None else (row["flash"], row["flash_is_error"])
