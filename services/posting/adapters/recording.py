"""The recording's reads and writes of whole days, in the unit of work's transaction
(`adapters/unit_of_work.py`); what to write is `domain/revisions.py`'s decision. Each
kind of write is one statement for the whole batch."""

from collections.abc import Sequence
from typing import Any

import asyncpg

from services.posting.adapters.outcomes import posting_of, write_outcomes
from services.posting.adapters.reposts import PostgresReposts, Reposts
from services.posting.domain.model import State, failed, narration_of, superseded_error
from services.posting.domain.records import Outcome
from services.posting.domain.revisions import DayRow, RecordingPlan
from services.posting.service_layer.unit_of_work import Day
from shared.contracts.events import Event, StoreTotalsClosed
from shared.unit_of_work import PostgresUnitOfWork

# One index probe per day, whatever the table's size: OFFSET 0 keeps the LATERAL
# subquery from being flattened into a join, which PostgreSQL's cached plan (made while
# the table was still small) ran as a scan of every posting: 1.2 ms a batch after 3,000
# days, where the probes take 0.05.
POSTINGS_OF_DAYS = (
    "SELECT p.id, p.store_id, p.business_date, p.revision, p.state, p.outcome,"
    " p.event_id, p.journal_id"
    " FROM unnest($1::text[], $2::date[]) AS d(store_id, day)"
    " CROSS JOIN LATERAL (SELECT * FROM postings p WHERE p.store_id = d.store_id"
    " AND p.business_date = d.day OFFSET 0) AS p"
)


class PostgresDayRevisions:
    """The `DayRevisions` of a `PostgresUnitOfWork`: on its transaction's connection."""

    def __init__(self, uow: PostgresUnitOfWork, reposts: Reposts | None = None) -> None:
        self.uow = uow
        self.reposts = reposts or PostgresReposts()

    async def record_if_unseen(self, days: Sequence[Day], plan: RecordingPlan) -> bool:
        """One statement, committed on its own (migration 010): the plan's inserts, under
        the days' locks, if none of the days has a posting yet."""
        assert not self.uow.in_transaction, "a batch of first sights commits on its own"
        recorded: bool = await self.uow.conn.fetchval(
            "SELECT record_first_sights($1::text[], $2::text[], $3::date[], $4::int[],"
            " $5::uuid[], $6::uuid[], $7::uuid[], $8::text[], $9::text[], $10::text[],"
            " $11::text[], $12::text[])",
            _lock_keys(days), *plan_columns(plan.inserts),
        )
        return recorded

    async def lock_and_read(self, days: Sequence[Day]) -> dict[Day, list[DayRow]]:
        """Revisions of one day are decided one at a time across replicas: an advisory
        lock per day, taken in a fixed order so two batches never deadlock. The lock is
        the transaction's (it begins here), so it holds until the batch commits."""
        conn = await self.uow.writer()
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext(k)) FROM unnest($1::text[]) AS k"
            " ORDER BY k",
            _lock_keys(days),
        )
        rows = await conn.fetch(
            POSTINGS_OF_DAYS,
            [store for store, _ in days],
            [day for _, day in days],
        )
        found: dict[Day, list[DayRow]] = {}
        for row in rows:
            found.setdefault((row["store_id"], row["business_date"]), []).append(dict(row))
        return found

    async def apply(self, plan: RecordingPlan) -> None:
        conn = await self.uow.writer()
        if plan.inserts:
            # A new organisation's budget row is made here, in the same statement, rather
            # than by its first call (an insert and a read again, in the latency path).
            await conn.execute(
                "WITH budget AS (INSERT INTO rate_budget (tenant_id)"
                " SELECT DISTINCT t FROM unnest($4::uuid[]) AS t ORDER BY t"
                " ON CONFLICT DO NOTHING)"
                " INSERT INTO postings (store_id, business_date, revision, tenant_id,"
                " connection_id, event_id, correlation_id, narration, event, state, outcome)"
                " SELECT * FROM unnest($1::text[], $2::date[], $3::int[], $4::uuid[],"
                " $5::uuid[], $6::uuid[], $7::text[], $8::text[], $9::text[], $10::text[],"
                " $11::text[])",
                *plan_columns(plan.inserts),
            )
        for revision, ids in plan.supersede.items():
            await self._supersede(conn, ids, revision)
        await self.reposts.reopen(conn, plan.reopen)

    async def _supersede(self, conn: asyncpg.Connection, ids: list[int], revision: int
                         ) -> None:
        rows = await conn.fetch(
            "SELECT id, store_id, business_date, revision, tenant_id, connection_id, event_id,"
            " correlation_id, event, state, attempts FROM postings WHERE id = ANY($1::bigint[])",
            ids,
        )
        outcomes = [
            Outcome(r["id"], State.SUPERSEDED, failed(posting_of(r), [superseded_error(revision)]))
            for r in rows
        ]
        # The outcomes and their events in one statement: the unit of work hands the
        # events off after COMMIT.
        self.uow.written_in_transaction(await write_outcomes(conn, outcomes))


def _lock_keys(days: Sequence[Day]) -> list[str]:
    """A day's advisory lock key, the same in `record_first_sights` (migration 010)."""
    return [f"{store}:{day.isoformat()}" for store, day in days]


def plan_columns(
    inserts: Sequence[tuple[StoreTotalsClosed, State, Event | None]],
) -> list[list[Any]]:
    events = [e for e, _, _ in inserts]
    return [
        [e.store_id for e in events],
        [e.business_date for e in events],
        [e.revision for e in events],
        [e.tenant_id for e in events],
        [e.connection_id for e in events],
        [e.event_id for e in events],
        [e.correlation_id for e in events],
        [narration_of(e) for e in events],
        [e.model_dump_json() for e in events],
        [state.value for _, state, _ in inserts],
        [o.model_dump_json() if o else None for _, _, o in inserts],
    ]
