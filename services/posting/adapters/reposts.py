"""New attempts of failed postings: the posting is reopened in place (same row, same
narration), so the day still reaches Xero at most once."""

from collections.abc import Sequence
from typing import Protocol

import asyncpg

from services.posting.domain.repost import Reopen


class Reposts(Protocol):
    async def reopen(self, conn: asyncpg.Connection, reopened: Sequence[Reopen]) -> None:
        """In the caller's transaction (the day's advisory lock is held)."""


# Only a posting still failed, with no journal in Xero, is reopened. The request's event
# replaces the failed one's (its connection may be new: the store connected again), and
# the organisation's budget row is made if that connection is to a new organisation.
_REOPEN = """
WITH budget AS (
    INSERT INTO rate_budget (tenant_id)
    SELECT DISTINCT t FROM unnest($4::uuid[]) AS t ORDER BY t ON CONFLICT DO NOTHING
)
UPDATE postings p SET state = u.state, attempts = 0, next_attempt_at = now(),
    outcome = NULL, last_error = NULL, event_id = u.event_id, event = u.event,
    tenant_id = u.tenant_id, connection_id = u.connection_id,
    reposts = p.reposts + 1, reposted_at = now(), updated_at = now()
FROM unnest($1::bigint[], $2::text[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[])
    AS u(id, state, event_id, tenant_id, connection_id, event)
WHERE p.id = u.id AND p.state = 'failed' AND p.journal_id IS NULL
"""


class PostgresReposts:
    async def reopen(self, conn: asyncpg.Connection, reopened: Sequence[Reopen]) -> None:
        if not reopened:
            return
        await conn.execute(
            _REOPEN,
            [r.posting_id for r in reopened],
            [r.state.value for r in reopened],
            [r.request.event_id for r in reopened],
            [r.request.tenant_id for r in reopened],
            [r.request.connection_id for r in reopened],
            [r.request.model_dump_json() for r in reopened],
        )
