"""The chart cache's table: each organisation's chart as last read from Xero, shared
by the replicas (`charts.py` keeps it in memory and decides when to read again)."""

from collections.abc import Mapping
from typing import Any
from uuid import UUID

import asyncpg


class PostgresChartStore:
    """On the `relaxed` pool: a copy of Xero's, read again if lost."""

    def __init__(self, relaxed: asyncpg.Pool) -> None:
        self.relaxed = relaxed

    async def load_chart(self, tenant_id: UUID) -> Mapping[str, Any] | None:
        row: asyncpg.Record | None = await self.relaxed.fetchrow(
            "SELECT accounts, organisation, last_modified, fetched_at, stale FROM charts"
            " WHERE tenant_id = $1",
            tenant_id,
        )
        return None if row is None else dict(row)

    async def save_chart(
        self, tenant_id: UUID, accounts: str, organisation: str, last_modified: str | None
    ) -> None:
        await self.relaxed.execute(
            "INSERT INTO charts (tenant_id, accounts, organisation, last_modified, fetched_at)"
            " VALUES ($1, $2, $3, $4, now()) ON CONFLICT (tenant_id) DO UPDATE SET"
            " accounts = excluded.accounts, organisation = excluded.organisation,"
            " last_modified = excluded.last_modified, fetched_at = now(), stale = false",
            tenant_id,
            accounts,
            organisation,
            last_modified,
        )

    async def mark_chart_stale(self, tenant_id: UUID) -> None:
        await self.relaxed.execute("UPDATE charts SET stale = true WHERE tenant_id = $1", tenant_id)
