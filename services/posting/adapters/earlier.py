"""The journals an amended day replaces, as they were posted: a void sends the journal
back whole with its new status (the spec's ManualJournal requires `Narration`), and the
day's message names the revision still live in Xero."""

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from services.posting.domain.model import narration_of
from services.posting.domain.records import EarlierJournal
from shared.contracts.events import StoreTotalsClosed


class PostgresEarlierJournals:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def posted_as(self, journal_ids: Sequence[UUID]) -> dict[UUID, EarlierJournal]:
        if not journal_ids:
            return {}
        rows = await self.pool.fetch(
            "SELECT journal_id, revision, event, tenant_id, connection_id FROM postings"
            " WHERE journal_id = ANY($1::uuid[])",
            list(set(journal_ids)),
        )
        found = {}
        for row in rows:
            event = StoreTotalsClosed.model_validate_json(row["event"])
            found[row["journal_id"]] = EarlierJournal(
                row["journal_id"], row["revision"], narration_of(event), event.journal,
                row["tenant_id"], row["connection_id"],
            )
        return found
