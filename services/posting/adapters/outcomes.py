"""A batch of postings' outcomes and their events, written together: the one
statement behind both a drain's settle and the recording's superseded revisions."""

from collections.abc import Sequence

import asyncpg

from services.posting.domain.model import Posting, State
from services.posting.domain.records import Outcome
from shared.outbox import OutboxRow, outbox_columns, outbox_row


def posting_of(row: asyncpg.Record) -> Posting:
    return Posting(
        id=row["id"],
        store_id=row["store_id"],
        business_date=row["business_date"],
        revision=row["revision"],
        tenant_id=row["tenant_id"],
        connection_id=row["connection_id"],
        event_id=row["event_id"],
        correlation_id=row["correlation_id"],
        document=row["event"],
        state=State(row["state"]),
        attempts=row["attempts"],
    )


async def write_outcomes(
conn: asyncpg.Connection, outcomes: Sequence[Outcome],
    expected: Sequence[int | None] | None = None,
) -> list[OutboxRow]:
    """The postings' outcomes and their events in the outbox, in one round trip; each
    event is serialised once, for both tables. Returns the outbox rows to hand off:
    those of the postings written."""
    row_of = [outbox_row(o.event) if o.event else None for o in outcomes]
    with_rows = [(o, row) for o, row in zip(outcomes, row_of, strict=True) if row]
    inserted = await conn.fetch(
        """
        WITH settled AS (
            UPDATE postings p SET state = u.state, journal_id = COALESCE(u.journal_id,
                p.journal_id), replaced_journal_id = u.replaced, outcome = u.outcome,
                last_error = u.last_error, updated_at = now()
            FROM unnest($1::bigint[], $2::text[], $3::uuid[], $4::uuid[], $5::text[],
                $6::text[], $7::int[])
                AS u(id, state, journal_id, replaced, outcome, last_error, expected)
            WHERE p.id = u.id AND (u.expected IS NULL OR p.attempts = u.expected)
            RETURNING p.id
        )
        INSERT INTO outbox (event_id, event_type, correlation_id, body)
        SELECT e.event_id, e.event_type, e.correlation_id, e.body
        FROM unnest($8::uuid[], $9::text[], $10::text[], $11::text[], $12::bigint[])
            AS e(event_id, event_type, correlation_id, body, posting_id)
        WHERE e.posting_id IN (SELECT id FROM settled)
        RETURNING event_id
        """,
        [o.posting_id for o in outcomes],
        [o.state.value for o in outcomes],
        [o.journal_id for o in outcomes],
        [o.replaced_journal_id for o in outcomes],
        [row.body if row else None for row in row_of],
        [o.last_error for o in outcomes],
        list(expected) if expected is not None else [None] * len(outcomes),
        *outbox_columns([row for _, row in with_rows]),
        [o.posting_id for o, _ in with_rows],
    )
    written = {r["event_id"] for r in inserted}
    return [row for _, row in with_rows if row.event_id in written]
