"""New attempts of failed postings: the posting is reopened in place (same row, same
narration), so the day still reaches Xero at most once."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg

from services.posting.domain.model import State
from services.posting.domain.repost import (
    RecordedRevision,
    SameRevision,
    attempt_state,
    decide_same_revision,
)
from shared.contracts.events import StoreTotalsClosed


@dataclass(frozen=True)
class Reopen:
    posting_id: int
    request: StoreTotalsClosed
    state: State  # how the attempt starts: pending, or in flight (looked up first)


def reopening(request: StoreTotalsClosed, row: Mapping[str, Any]) -> Reopen | None:
    """The settled posting `row` of the request's revision, reopened if the request is a
    new attempt (`domain/repost.py`); None when its known outcome is to be repeated."""
    if row.get("id") is None:  # recorded by this very batch: nothing settled to reopen
        return None
    recorded = RecordedRevision(State(row["state"]), row["event_id"], True,
                                row.get("journal_id") is not None)
    if decide_same_revision(recorded, request.event_id) is not SameRevision.NEW_ATTEMPT:
        return None
    retryable = bool(json.loads(row["outcome"]).get("retryable"))
    return Reopen(row["id"], request, attempt_state(retryable))


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
