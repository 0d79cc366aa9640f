"""Attempts Xero refused with a 429, per posting: they do not count against
POSTING_MAX_ATTEMPTS (a 429 means Xero did nothing with the request)."""

from collections.abc import Sequence

import asyncpg


class PostgresRefusedAttempts:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def add(self, posting_ids: Sequence[int]) -> None:
        if posting_ids:
            await self.pool.execute(
                "INSERT INTO refused_attempts (posting_id, refused)"
                " SELECT unnest($1::bigint[]), 1"
                " ON CONFLICT (posting_id) DO UPDATE SET refused = refused_attempts.refused + 1",
                list(posting_ids))

    async def of(self, posting_ids: Sequence[int]) -> dict[int, int]:
        if not posting_ids:
            return {}
        rows = await self.pool.fetch(
            "SELECT posting_id, refused FROM refused_attempts"
            " WHERE posting_id = ANY($1::bigint[])", list(posting_ids))
        return {r["posting_id"]: r["refused"] for r in rows}
