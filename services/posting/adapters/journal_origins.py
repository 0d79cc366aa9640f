"""Which organisation a journal was posted to, from the posting that recorded it."""

from uuid import UUID

import asyncpg

from services.posting.domain.void_target import JournalOrigin


class PgJournalOrigins:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def origin_of(self, journal_id: UUID) -> JournalOrigin | None:
        """The organisation the posting of `journal_id` went to, and the newest connection
        that posted there (a store of that organisation may still be connected)."""
        row = await self.pool.fetchrow(
            "SELECT p.tenant_id, (SELECT n.connection_id FROM postings n"
            " WHERE n.tenant_id = p.tenant_id ORDER BY n.id DESC LIMIT 1) AS connection_id"
            " FROM postings p WHERE p.journal_id = $1 ORDER BY p.id DESC LIMIT 1",
            journal_id,
        )
        if row is None:
            return None
        return JournalOrigin(row["tenant_id"], row["connection_id"])
