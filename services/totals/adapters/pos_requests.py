"""Which POS requests (by event id) totals has handled: replays are told apart."""

from datetime import datetime
from uuid import UUID

import asyncpg


class PgPosRequestsSeen:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def seen(self, event_id: UUID) -> bool:
        found = await self.pool.fetchval(
            "SELECT 1 FROM pos_requests_seen WHERE event_id = $1", event_id)
        return found is not None

    async def remember(self, event_id: UUID, forget_before: datetime) -> None:
        """Records `event_id` as handled; forgets requests too old to be accepted anyway,
        so the table holds one accepting window of ids."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("INSERT INTO pos_requests_seen (event_id) VALUES ($1)"
                               " ON CONFLICT DO NOTHING", event_id)
            await conn.execute("DELETE FROM pos_requests_seen WHERE seen_at < $1",
                               forget_before)
