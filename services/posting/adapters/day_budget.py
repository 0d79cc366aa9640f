"""The daily Xero budget of each organisation in PostgreSQL, shared by every replica.

Each answered call is counted (with Xero's own `X-DayLimit-Remaining`, and a day 429's
`Retry-After`); before a call the count is read, from a copy at most a few seconds old
unless the day is nearly spent. Counting a call returns the count, so the copy is fresh
after each call of this replica without a read of its own.
"""

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol
from uuid import UUID

import asyncpg

from services.posting.domain.day_budget import DayCount, left_today, next_call_at
from services.posting.domain.records import RateInfo

# A copy this young is trusted while more than `_CLOSE` calls are left.
_FRESH_S = 5.0
_CLOSE = 50


class DayBudget(Protocol):
    async def next_call_at(self, tenant_id: UUID) -> datetime | None:
        """None when a call may go now, else when the organisation's budget comes back."""

    async def record(self, tenant_id: UUID, rate: RateInfo) -> None:
        """Counts one answered call and what Xero said about the day."""

    async def spent_within(self, tenant_id: UUID, seconds: float) -> bool:
        """Whether the organisation's daily budget ran out within the last `seconds`."""


class PgDayBudget:
    def __init__(self, pool: asyncpg.Pool, per_day: int) -> None:
        self.pool = pool
        self.per_day = per_day
        self._copies: dict[UUID, tuple[float, DayCount | None]] = {}

    async def next_call_at(self, tenant_id: UUID) -> datetime | None:
        now = datetime.now(UTC)
        copy = self._copies.get(tenant_id)
        if copy is None or time.monotonic() - copy[0] > _FRESH_S \
                or left_today(now, copy[1], self.per_day) <= _CLOSE:
            copy = (time.monotonic(), await self._read(tenant_id))
            self._copies[tenant_id] = copy
        return next_call_at(now, copy[1], self.per_day)

    async def record(self, tenant_id: UUID, rate: RateInfo) -> None:
        now = datetime.now(UTC)
        blocked = None
        if rate.problem == "day" and rate.retry_after_s is not None:
            blocked = now + timedelta(seconds=rate.retry_after_s)
        # The day ran out: a day 429, or Xero saying none are left.
        spent = now if blocked is not None or rate.day_remaining == 0 else None
        row = await self.pool.fetchrow(
            """
            INSERT INTO day_budget (tenant_id, window_start, used, xero_remaining, blocked_until,
                                    spent_at)
            VALUES ($1, $2, 1, $3, $4, $5)
            ON CONFLICT (tenant_id) DO UPDATE SET
                used = CASE WHEN day_budget.window_start + interval '24 hours' <= $2
                            THEN 1 ELSE day_budget.used + 1 END,
                xero_remaining = CASE WHEN day_budget.window_start + interval '24 hours' <= $2
                            THEN $3 ELSE COALESCE($3, day_budget.xero_remaining) END,
                window_start = CASE WHEN day_budget.window_start + interval '24 hours' <= $2
                            THEN $2 ELSE day_budget.window_start END,
                blocked_until = GREATEST(day_budget.blocked_until, $4),
                spent_at = COALESCE($5, day_budget.spent_at)
            RETURNING window_start, used, xero_remaining, blocked_until
            """,
            tenant_id, now, rate.day_remaining, blocked, spent,
        )
        self._copies[tenant_id] = (time.monotonic(), DayCount(**dict(row)))

    async def spent_within(self, tenant_id: UUID, seconds: float) -> bool:
        spent_at = await self.pool.fetchval(
            "SELECT spent_at FROM day_budget WHERE tenant_id = $1", tenant_id)
        return spent_at is not None and \
            (datetime.now(UTC) - spent_at).total_seconds() <= seconds

    async def _read(self, tenant_id: UUID) -> DayCount | None:
        row = await self.pool.fetchrow(
            "SELECT window_start, used, xero_remaining, blocked_until FROM day_budget"
            " WHERE tenant_id = $1", tenant_id)
        return None if row is None else DayCount(**dict(row))
