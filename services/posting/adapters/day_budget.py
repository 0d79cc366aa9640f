"""The daily Xero budget of each organisation in PostgreSQL, shared by every replica.

Each answered call is counted (with Xero's own `X-DayLimit-Remaining`, and a day 429's
`Retry-After`) in the statement that gives its slot back to the minute budget
(`adapters/rate_budget.py`, with `count_calls`); before a call the count is read, from a
copy at most a minute old unless the day is nearly spent. Counting returns the count, so
the copy is fresh after each call of this replica without a read of its own.
"""

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from services.posting.domain.day_budget import (
    Answered,
    DayCount,
    counted,
    left_today,
    next_call_at,
)

# A copy this young is trusted while more than `_CLOSE` calls are left. In a minute every
# replica together makes at most an organisation's minute budget of calls (60, and 5 in
# flight: `domain/budget.py`), so a copy a minute old misses at most 65 of them.
_FRESH_S = 60.0
_CLOSE = 100


class DayBudget(Protocol):
    async def next_call_at(self, tenant_id: UUID) -> datetime | None:
        """None when a call may go now, else when the organisation's budget comes back."""

    async def spent_within(self, tenant_id: UUID, seconds: float) -> bool:
        """Whether the organisation's daily budget ran out within the last `seconds`."""


def count_calls(first: int) -> str:
    """The statement that adds each organisation's calls of a group to its day, or begins
    its day again when the last one is over, with its six arrays from parameter `first`
    on (`count_columns`); rows locked in the order of their ids (`counted`)."""
    arrays = ", ".join(f"${first + i}::{kind}[]" for i, kind in enumerate(
        ("uuid", "timestamptz", "int", "int", "timestamptz", "timestamptz")))
    return f"""
INSERT INTO day_budget AS d (tenant_id, window_start, used, xero_remaining, blocked_until,
                             spent_at)
SELECT * FROM unnest({arrays})
ON CONFLICT (tenant_id) DO UPDATE SET
    used = CASE WHEN d.window_start + interval '24 hours' <= EXCLUDED.window_start
                THEN EXCLUDED.used ELSE d.used + EXCLUDED.used END,
    xero_remaining = CASE WHEN d.window_start + interval '24 hours' <= EXCLUDED.window_start
                THEN EXCLUDED.xero_remaining
                ELSE COALESCE(EXCLUDED.xero_remaining, d.xero_remaining) END,
    window_start = CASE WHEN d.window_start + interval '24 hours' <= EXCLUDED.window_start
                THEN EXCLUDED.window_start ELSE d.window_start END,
    blocked_until = GREATEST(d.blocked_until, EXCLUDED.blocked_until),
    spent_at = COALESCE(EXCLUDED.spent_at, d.spent_at)
RETURNING tenant_id, window_start, used, xero_remaining, blocked_until"""  # noqa: S608


def count_columns(answers: Sequence[Answered]) -> list[list[Any]]:
    """`count_calls`' six arrays: the answers merged per organisation."""
    counts = counted(answers)
    return [[c.tenant_id for c in counts], [c.first_at for c in counts],
            [c.calls for c in counts], [c.xero_remaining for c in counts],
            [c.blocked_until for c in counts], [c.spent_at for c in counts]]


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

    def remember(self, counts: Sequence[tuple[UUID, DayCount]]) -> None:
        """Each organisation's count as the statement that counted its calls returned it."""
        now = time.monotonic()
        for tenant_id, count in counts:
            self._copies[tenant_id] = (now, count)

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
