"""Auth's vault ports in memory: connections as rows (dicts of auth.connections'
columns), one asyncio lock per connection standing for the advisory lock every replica
shares, and an outbox. A unit of work's writes reach the rows only at commit."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from services.auth.domain.tokens import Status, TokenSet
from services.auth.service_layer.unit_of_work import AuthUnitOfWork, LockBusy, Rotation, Row
from shared.contracts.events import Event

LIVE = (Status.ACTIVE, Status.NEEDS_REAUTH)


@dataclass
class FakeDatabase:
    rows: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    locks: dict[UUID, asyncio.Lock] = field(default_factory=dict)
    outbox: list[Event] = field(default_factory=list)


class FakeConnections:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.staged: dict[UUID, dict[str, Any]] = {}

    def _row(self, connection_id: UUID) -> dict[str, Any]:
        if connection_id not in self.staged:
            self.staged[connection_id] = dict(self.db.rows[connection_id])
        return self.staged[connection_id]

    def _update(self, connection_id: UUID, **values: Any) -> None:
        self._row(connection_id).update(values)

    async def get(self, connection_id: UUID) -> Row | None:
        row = self.staged.get(connection_id) or self.db.rows.get(connection_id)
        return dict(row) if row is not None else None

    async def mark_refresh_sent(self, connection_id: UUID, at: datetime) -> None:
        if self._row(connection_id)["refresh_first_used_at"] is None:
            self._update(connection_id, refresh_first_used_at=at)

    async def store_rotation(self, connection_id: UUID, rotation: Rotation) -> None:
        row = self._row(connection_id)
        self._update(
            connection_id, access_token_sealed=rotation.access_token_sealed,
            access_expires_at=rotation.access_expires_at,
            refresh_token_sealed=rotation.refresh_token_sealed, refresh_first_used_at=None,
            previous_refresh_token_sealed=rotation.previous_refresh_token_sealed,
            previous_first_used_at=rotation.previous_first_used_at,
            scope=rotation.scope or row["scope"], last_refreshed_at=rotation.at,
            refresh_count=row["refresh_count"] + 1, refresh_failures=0,
            refresh_not_before=None, last_refresh_error=None)

    async def record_failure(self, connection_id: UUID, error: str,
                             not_before: datetime) -> None:
        failures = self._row(connection_id)["refresh_failures"] + 1
        self._update(connection_id, refresh_failures=failures, refresh_not_before=not_before,
                     last_refresh_error=error[:500])

    async def mark_needs_reauth(self, connection_id: UUID, reason: str) -> Row | None:
        row = self._row(connection_id)
        if row["status"] != Status.ACTIVE:
            return None
        self._update(connection_id, status=Status.NEEDS_REAUTH, reauth_reason=reason[:500],
                     **_no_tokens())
        return {"store_id": row["store_id"], "tenant_id": row["tenant_id"]}

    async def reseal(self, connection_id: UUID, sealed: dict[str, str]) -> None:
        self._update(connection_id, **{f"{column}_sealed": value
                                       for column, value in sealed.items()})

    async def end(self, connection_id: UUID, status: str) -> None:
        self._update(connection_id, status=status, **_no_tokens())

    async def stores_sharing_xero_user(self, row: Row) -> list[str]:
        return self._sharing(row, "xero_user_id")

    async def stores_sharing_xero_connection(self, row: Row) -> list[str]:
        return self._sharing(row, "xero_connection_id")

    def _sharing(self, row: Row, column: str) -> list[str]:
        if not row[column]:
            return []
        return sorted(other["store_id"] for other in self.db.rows.values()
                      if other[column] == row[column] and other["id"] != row["id"]
                      and other["status"] in LIVE)

    async def sealed_under_other_keys(self, key_id: str, limit: int) -> list[UUID]:
        return [r["id"] for r in self.db.rows.values() if r["refresh_token_sealed"]
                and r["refresh_token_sealed"].split(".")[0] != key_id][:limit]

    async def due_for_keepalive(self, before: datetime, limit: int) -> list[UUID]:
        due = sorted((r for r in self.db.rows.values() if r["status"] == Status.ACTIVE
                      and r["last_refreshed_at"] < before and r["refresh_not_before"] is None),
                     key=lambda r: r["last_refreshed_at"])
        return [r["id"] for r in due][:limit]

    async def forget_old_attempts(self, before: datetime) -> int:
        return 0


def _no_tokens() -> dict[str, None]:
    return {"access_token_sealed": None, "access_expires_at": None,
            "refresh_token_sealed": None, "previous_refresh_token_sealed": None}


class FakeAuthUnitOfWork(AuthUnitOfWork):
    def __init__(self, db: FakeDatabase) -> None:
        super().__init__()
        self.db = db

    async def _begin(self) -> None:
        self.connections = self.fake = FakeConnections(self.db)

    async def _end(self) -> None:
        pass

    async def _commit(self, events: list[Event]) -> None:
        self.db.rows |= self.fake.staged
        self.fake.staged = {}
        self.db.outbox += events

    async def rollback(self) -> None:
        self._new_events = []
        self.fake.staged = {}

    @contextlib.asynccontextmanager
    async def refresh_lock(self, connection_id: UUID, wait_s: float) -> AsyncIterator[None]:
        lock = self.db.locks.setdefault(connection_id, asyncio.Lock())
        try:
            await asyncio.wait_for(lock.acquire(), wait_s)
        except TimeoutError as exc:
            raise LockBusy(str(connection_id)) from exc
        try:
            yield
        finally:
            lock.release()


@dataclass
class FakeXero:
    """Xero's token endpoint as the vault meets it: each refresh token works once; what
    `answers` holds for a token (an exception) is raised instead."""

    issued: int = 0
    spent: list[str] = field(default_factory=list)
    answers: dict[str, BaseException] = field(default_factory=dict)
    now: datetime | None = None
    revoked: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    async def refresh(self, refresh_token: str) -> TokenSet:
        self.spent.append(refresh_token)
        if refresh_token in self.answers:
            raise self.answers.pop(refresh_token)
        self.issued += 1
        assert self.now is not None
        return TokenSet(f"access-{self.issued}", f"refresh-{self.issued}",
                        self.now + timedelta(minutes=30), "accounting.transactions")

    async def revoke(self, refresh_token: str) -> None:
        self.revoked.append(refresh_token)

    async def delete_connection(self, access_token: str, xero_connection_id: str) -> None:
        self.removed.append(xero_connection_id)
