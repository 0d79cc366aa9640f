"""The posting service's PostgreSQL: postings, tenant leases, the shared rate budget,
the chart cache and the outbox. Few round trips per posting: batches use arrays."""

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from services.posting.adapters.recording import plan_columns
from services.posting.adapters.reposts import PostgresReposts, Reposts
from services.posting.domain import budget
from services.posting.domain.model import (
    Posting,
    State,
    failed,
    superseded_error,
)
from services.posting.domain.revisions import Recorded, RecordingPlan
from shared.contracts.events import (
    GlPostingFailed,
    GlPostingSucceeded,
    StoreTotalsClosed,
)
from shared.messaging.grouping import GroupedWriter
from shared.outbox import (
    HandOff,
    OutboxRow,
    Transaction,
    outbox_columns,
    outbox_row,
    transaction,
)

# How often a budget decision is read again after another call changed the row first.
_BUDGET_RACES = 5
_BUDGET_READ = (
    "SELECT calls, in_flight, blocked_until, clock_timestamp() AS now FROM rate_budget"
    " WHERE tenant_id = $1"
)
# Written only if the row is still as read ($4-$6); the app's minute is counted only then.
_BUDGET_TAKE = """
WITH taken AS (
    UPDATE rate_budget SET calls = $2, in_flight = $3
    WHERE tenant_id = $1 AND calls = $4 AND in_flight = $5
      AND blocked_until IS NOT DISTINCT FROM $6
    RETURNING 1
), counted AS (
    UPDATE app_budget SET
      calls = CASE WHEN window_start < date_trunc('minute', $7::timestamptz)
        THEN 1 ELSE calls + 1 END,
      window_start = GREATEST(window_start, date_trunc('minute', $7::timestamptz))
    WHERE id = 1 AND EXISTS (SELECT 1 FROM taken)
      AND (window_start < date_trunc('minute', $7::timestamptz) OR calls < $8)
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM taken) AS taken, EXISTS (SELECT 1 FROM counted) AS counted
"""

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

_BUDGET_RELEASE_ONE = (
    "UPDATE rate_budget SET in_flight = array_remove(in_flight, $2),"
    " blocked_until = GREATEST(blocked_until, $3) WHERE tenant_id = $1"
)
_BUDGET_READ_MANY = (
    "SELECT tenant_id, calls, in_flight, blocked_until, clock_timestamp() AS now"
    " FROM rate_budget WHERE tenant_id = ANY($1::uuid[])"
)
# Per organisation as _BUDGET_TAKE (written only if still as read); the arrays travel as
# array literals because PostgreSQL has no arrays of arrays of different lengths.
_BUDGET_TAKE_MANY = """
WITH taken AS (
    UPDATE rate_budget b SET calls = u.calls::timestamptz[],
        in_flight = u.in_flight::timestamptz[]
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                $6::timestamptz[])
        AS u(tenant_id, calls, in_flight, old_calls, old_in_flight, old_blocked)
    WHERE b.tenant_id = u.tenant_id AND b.calls = u.old_calls::timestamptz[]
      AND b.in_flight = u.old_in_flight::timestamptz[]
      AND b.blocked_until IS NOT DISTINCT FROM u.old_blocked
    RETURNING b.tenant_id
), counted AS (
    UPDATE app_budget SET
      calls = CASE WHEN window_start < date_trunc('minute', $7::timestamptz)
        THEN (SELECT count(*) FROM taken) ELSE calls + (SELECT count(*) FROM taken) END,
      window_start = GREATEST(window_start, date_trunc('minute', $7::timestamptz))
    WHERE id = 1 AND EXISTS (SELECT 1 FROM taken)
      AND (window_start < date_trunc('minute', $7::timestamptz)
           OR calls + (SELECT count(*) FROM taken) <= $8)
    RETURNING 1
)
SELECT (SELECT array_agg(tenant_id) FROM taken) AS taken,
       EXISTS (SELECT 1 FROM counted) AS counted
"""


def _array_literal(stamps: Sequence[datetime]) -> str:
    """A timestamptz[] literal; isoformat keeps the microseconds the comparison needs."""
    return "{" + ",".join(f'"{stamp.isoformat()}"' for stamp in stamps) + "}"


@dataclass(frozen=True)
class DueTenant:
    tenant_id: UUID


@dataclass(frozen=True)
class Claimed:
    """A posting taken for a drain, with what its day's other revisions require."""

    posting: Posting
    newer_revision: int | None
    to_void: tuple[UUID, ...]
    waits_for_older: bool
    age_s: float = 0.0
    # A new attempt of a failed day: how many, and when the last was asked for.
    reposts: int = 0
    reposted_at: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    posting_id: int
    state: State
    event: GlPostingSucceeded | GlPostingFailed | None
    journal_id: UUID | None = None
    replaced_journal_id: UUID | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class Reschedule:
    posting_id: int
    state: State
    next_attempt_at: datetime
    last_error: str
    count_attempt: bool = True


# Up to $2 due postings of each organisation in $1, each with what its day's other
# revisions say (a newer one, journals to void, one still in flight). Both indexes it needs
# are probed under a generic plan made on an empty table (tests/shared/test_cached_plans.py).
CLAIM_DUE_POSTINGS = """
SELECT p.id, p.store_id, p.business_date, p.revision, p.tenant_id,
  p.connection_id, p.event_id, p.correlation_id, p.event, p.state, p.attempts,
  extract(epoch FROM now() - p.created_at)::float8 AS age_s, p.reposts, p.reposted_at,
  (SELECT max(n.revision) FROM postings n WHERE n.store_id = p.store_id
     AND n.business_date = p.business_date AND n.revision > p.revision) AS newer,
  earlier.to_void, earlier.waits
FROM (
  SELECT d.*, row_number() OVER (PARTITION BY d.tenant_id ORDER BY d.id) AS nth
  FROM postings d
  WHERE d.tenant_id = ANY($1::uuid[]) AND d.state IN ('pending', 'in_flight')
    AND d.next_attempt_at <= now()
) p
-- The day's earlier revisions, read once through the day's own key.
CROSS JOIN LATERAL (
  SELECT array_agg(o.journal_id) FILTER (
           WHERE o.journal_id IS NOT NULL AND o.voided_at IS NULL) AS to_void,
         coalesce(bool_or(o.state = 'in_flight'), false) AS waits
  FROM postings o WHERE o.store_id = p.store_id
    AND o.business_date = p.business_date AND o.revision < p.revision
) earlier
WHERE p.nth <= $2
ORDER BY p.id
"""


def _posting(row: asyncpg.Record) -> Posting:
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


def _expected(posting_id: int, expected: Mapping[int, int] | None) -> int | None:
    return None if expected is None else expected.get(posting_id)


def _day_key(event: StoreTotalsClosed) -> str:
    return f"{event.store_id}:{event.business_date.isoformat()}"


class Repository:
    """`pool` commits durably (postings, outcomes, the outbox). `relaxed` may skip waiting
    for the WAL flush: leases, the rate budget and the chart cache are worth little after
    a database crash, and their commits are the most frequent."""

    def __init__(self, pool: asyncpg.Pool, relaxed: asyncpg.Pool | None = None,
                 handed: HandOff | None = None, reposts: Reposts | None = None) -> None:
        self.pool = pool
        self.reposts = reposts or PostgresReposts()
        self.relaxed = relaxed or pool
        # Committed events go to this process's relay at once (without one: its sweep).
        self.handed = handed or HandOff(limit=0)
        # Many organisations drain side by side, each writing its own bookkeeping after
        # every call: writes that arrive together go out as one statement (one commit),
        # so under load the round trips per Xero call fall with the number of drains.
        self._settles = GroupedWriter(self._settle_groups, name="settle")
        self._in_flight = GroupedWriter(self._mark_in_flight_groups, name="in-flight")
        self._reschedules = GroupedWriter(self._reschedule_groups, name="reschedule")
        # One writer each: two multi-row updates of the same budget or lease rows could
        # otherwise lock them in opposite orders.
        self._call_releases = GroupedWriter(self._release_calls, writers=1,
                                            name="release-call")
        self._lease_releases = GroupedWriter(self._release_leases, writers=1,
                                             name="release-lease")
        self._acquires = GroupedWriter(self._acquire_group, writers=1, name="acquire-call")
        self._claims = GroupedWriter(self._claim_groups, name="claim-batch")

    async def stop(self) -> None:
        # Every grouped writer this repository made, so none is left running.
        for writer in (value for value in vars(self).values()
                       if isinstance(value, GroupedWriter)):
            await writer.stop()

    # --- the consumer: record a posting before anything else happens ---

    async def record_many(self, events: Sequence[StoreTotalsClosed]) -> list[Recorded]:
        """Records a batch of events in one transaction (a handful of statements).

        Revisions of one day are decided one at a time across replicas (an advisory lock
        per day, taken in a fixed order so two batches never deadlock)."""
        keys = sorted({_day_key(e) for e in events})
        days_of_batch = {(e.store_id, e.business_date) for e in events}
        async with transaction(self.pool, self.handed) as tx:
            conn = tx.conn
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext(k)) FROM unnest($1::text[]) AS k"
                " ORDER BY k",
                keys,
            )
            rows = await conn.fetch(
                POSTINGS_OF_DAYS,
                [store for store, _ in days_of_batch],
                [day for _, day in days_of_batch],
            )
            days: dict[str, list[dict[str, Any]]] = {}
            for row in rows:
                key = f"{row['store_id']}:{row['business_date'].isoformat()}"
                days.setdefault(key, []).append(dict(row))
            plan = RecordingPlan()
            results = [plan.decide(e, days.setdefault(_day_key(e), [])) for e in events]
            await self._apply(tx, plan)
            return results

    async def _apply(self, tx: Transaction, plan: RecordingPlan) -> None:
        conn = tx.conn
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
            await self._supersede(tx, ids, revision)
        await self.reposts.reopen(conn, plan.reopen)
        await tx.enqueue(*plan.events)

    async def _supersede(self, tx: Transaction, ids: list[int], revision: int) -> None:
        rows = await tx.conn.fetch(
            "SELECT id, store_id, business_date, revision, tenant_id, connection_id, event_id,"
            " correlation_id, event, state, attempts FROM postings WHERE id = ANY($1::bigint[])",
            ids,
        )
        outcomes = [
            Outcome(r["id"], State.SUPERSEDED, failed(_posting(r), [superseded_error(revision)]))
            for r in rows
        ]
        tx.written += await self._write_outcomes(tx.conn, outcomes)

    # --- the scheduler: which organisations have work, and one drainer each ---

    async def claim_tenants(self, owner: str, limit: int, lease_s: float) -> list[UUID]:
        rows = await self.relaxed.fetch(
            """
            WITH due AS (
                SELECT DISTINCT tenant_id FROM postings
                WHERE state IN ('pending', 'in_flight') AND next_attempt_at <= now()
            ), free AS (
                SELECT due.tenant_id FROM due
                LEFT JOIN tenant_leases l ON l.tenant_id = due.tenant_id
                WHERE l.tenant_id IS NULL OR l.until < now()
                LIMIT $2
            )
            INSERT INTO tenant_leases (tenant_id, owner, until)
            SELECT tenant_id, $1, now() + make_interval(secs => $3) FROM free
            ON CONFLICT (tenant_id) DO UPDATE SET owner = excluded.owner, until = excluded.until
                WHERE tenant_leases.until < now()
            RETURNING tenant_id
            """,
            owner,
            limit,
            lease_s,
        )
        return [r["tenant_id"] for r in rows]

    async def renew_lease(self, tenant_id: UUID, owner: str, lease_s: float) -> bool:
        status: str = await self.relaxed.execute(
            "UPDATE tenant_leases SET until = now() + make_interval(secs => $3)"
            " WHERE tenant_id = $1 AND owner = $2",
            tenant_id,
            owner,
            lease_s,
        )
        return status.endswith(" 1")

    async def release_lease(self, tenant_id: UUID, owner: str) -> None:
        await self._lease_releases.submit((tenant_id, owner))

    async def _release_leases(self, leases: Sequence[tuple[UUID, str]]) -> list[None]:
        await self.relaxed.execute(
            "DELETE FROM tenant_leases l USING unnest($1::uuid[], $2::text[]) AS u(t, o)"
            " WHERE l.tenant_id = u.t AND l.owner = u.o",
            [tenant for tenant, _ in leases], [owner for _, owner in leases],
        )
        return [None] * len(leases)

    # --- the drainer ---

    async def claim_batch(self, tenant_id: UUID, limit: int) -> list[Claimed]:
        """The organisation's due postings, oldest first, with what their day's other
        revisions require. Claims of drains running side by side share one query."""
        return await self._claims.submit((tenant_id, limit))

    async def _claim_groups(self, requests: Sequence[tuple[UUID, int]]) -> list[list[Claimed]]:
        rows = await self.pool.fetch(
            CLAIM_DUE_POSTINGS,
            list({tenant_id for tenant_id, _ in requests}),
            max(limit for _, limit in requests),
        )
        by_tenant: dict[UUID, list[Claimed]] = {}
        for r in rows:
            by_tenant.setdefault(r["tenant_id"], []).append(Claimed(
                _posting(r), r["newer"], tuple(r["to_void"] or ()), r["waits"], r["age_s"],
                r["reposts"], r["reposted_at"]))
        return [by_tenant.get(tenant_id, [])[:limit] for tenant_id, limit in requests]

    async def mark_in_flight(self, postings: Sequence[Posting], grace_s: float) -> set[int]:
        """Committed before the call: after a crash these are looked up in Xero first, once
        `grace_s` has passed (a request Xero may still be working on is not raced).

        Returns the ids marked: only postings still at the attempt they were claimed at.
        One that another drainer marked first (two drains of an organisation overlapped,
        a lease having lapsed) is that drainer's to send: sending it too could post it
        twice."""
        return await self._in_flight.submit(([(p.id, p.attempts) for p in postings], grace_s))

    async def _mark_in_flight_groups(
        self, groups: Sequence[tuple[list[tuple[int, int]], float]]
    ) -> list[set[int]]:
        rows = await self.pool.fetch(
            "UPDATE postings p SET state = 'in_flight', attempts = p.attempts + 1,"
            " sent_at = now(), next_attempt_at = now() + make_interval(secs => u.grace),"
            " updated_at = now()"
            " FROM unnest($1::bigint[], $2::int[], $3::float8[]) AS u(id, claimed_at, grace)"
            " WHERE p.id = u.id AND p.attempts = u.claimed_at RETURNING p.id",
            [i for postings, _ in groups for i, _ in postings],
            [attempts for postings, _ in groups for _, attempts in postings],
            [grace for postings, grace in groups for _ in postings],
        )
        marked = {r["id"] for r in rows}
        return [{i for i, _ in postings if i in marked} for postings, _ in groups]

    async def event_body(self, posting_id: int) -> str:
        body: str = await self.pool.fetchval("SELECT event FROM postings WHERE id = $1", posting_id)
        return body

    async def mark_voided(self, journal_id: UUID) -> None:
        await self.pool.execute(
            "UPDATE postings SET voided_at = now(), updated_at = now() WHERE journal_id = $1",
            journal_id,
        )

    async def settle(
        self, outcomes: Sequence[Outcome], expected: Mapping[int, int] | None = None
    ) -> None:
        """Outcomes and their events in one statement, atomic on its own (no BEGIN/COMMIT
        round trips). A process killed while it runs may still have it committed by the
        server: either way the day is recorded once, by this outcome or by a lookup.

        With `expected` (posting id → attempts), a posting whose attempts differ is left
        alone, its event unsent: another drainer has moved it on (see `mark_in_flight`)."""
        if outcomes:
            await self._settles.submit([(o, _expected(o.posting_id, expected)) for o in outcomes])

    async def _settle_groups(
        self, groups: Sequence[list[tuple[Outcome, int | None]]]
    ) -> list[None]:
        items = [item for group in groups for item in group]
        async with self.pool.acquire() as conn:
            written = await self._write_outcomes(
                conn, [o for o, _ in items], [attempts for _, attempts in items])
        self.handed(written)
        return [None] * len(groups)

    async def _write_outcomes(
        self, conn: asyncpg.Connection, outcomes: Sequence[Outcome],
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

    async def reschedule(
        self, items: Sequence[Reschedule], expected: Mapping[int, int] | None = None
    ) -> None:
        """Postings back to wait; with `expected`, as for `settle`."""
        if items:
            await self._reschedules.submit(
                [(item, _expected(item.posting_id, expected)) for item in items])

    async def _reschedule_groups(
        self, groups: Sequence[list[tuple[Reschedule, int | None]]]
    ) -> list[None]:
        items = [item for group in groups for item, _ in group]
        await self.pool.execute(
            """
            UPDATE postings p SET state = u.state, next_attempt_at = u.next_at,
                last_error = u.last_error, updated_at = now(),
                attempts = p.attempts + CASE WHEN u.count_attempt AND u.state = 'pending'
                    THEN 1 ELSE 0 END
            FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::text[], $5::bool[],
                $6::int[]) AS u(id, state, next_at, last_error, count_attempt, expected)
            WHERE p.id = u.id AND (u.expected IS NULL OR p.attempts = u.expected)
            """,
            [i.posting_id for i in items],
            [i.state.value for i in items],
            [i.next_attempt_at for i in items],
            [i.last_error[:2000] for i in items],
            [i.count_attempt for i in items],
            [attempts for group in groups for _, attempts in group],
        )
        return [None] * len(groups)

    # --- Xero's limits, shared by every replica ---

    async def acquire_call(self, tenant_id: UUID, limits: budget.Limits) -> tuple[float, Any]:
        """(0, slot) when a call may start now, else (seconds to wait, None). Requests of
        drains running side by side are decided together (see `_acquire_group`)."""
        return await self._acquires.submit((tenant_id, limits))

    async def _acquire_group(
        self, requests: Sequence[tuple[UUID, budget.Limits]]
    ) -> list[tuple[float, Any]]:
        """Many organisations' requests in two statements: their rows read, each decided
        here, and every granted one written back only where the row is still as read (and
        the app-wide minute counted for all of them at once). Whatever lost a race with
        another replica, or asks for an organisation twice, takes the one-by-one path."""
        first_of: dict[UUID, int] = {}
        for index, (tenant_id, _) in enumerate(requests):
            first_of.setdefault(tenant_id, index)
        results: list[tuple[float, Any] | None] = [None] * len(requests)
        if len(first_of) > 1:
            await self._decide_together(requests, first_of, results)
        rest = [index for index, result in enumerate(results) if result is None]
        for index, result in zip(rest, await asyncio.gather(
                *(self._acquire_one(*requests[index]) for index in rest)), strict=True):
            results[index] = result
        return [r for r in results if r is not None]

    async def _decide_together(
        self, requests: Sequence[tuple[UUID, budget.Limits]], first_of: dict[UUID, int],
        results: list[tuple[float, Any] | None],
    ) -> None:
        rows = {r["tenant_id"]: r for r in await self.relaxed.fetch(
            _BUDGET_READ_MANY, list(first_of))}
        granted: dict[UUID, tuple[budget.Decision, asyncpg.Record]] = {}
        for tenant_id, index in first_of.items():
            row = rows.get(tenant_id)
            if row is None:
                continue  # a new organisation: its row is made on the one-by-one path
            limits = requests[index][1]
            decision = budget.decide(row["now"], row["calls"], row["in_flight"],
                                     row["blocked_until"], limits)
            if decision.granted:
                granted[tenant_id] = (decision, row)
            else:
                results[index] = (decision.wait_s, None)
        if not granted:
            return
        now = max(row["now"] for _, row in granted.values())
        app_limit = min(requests[first_of[t]][1].app_per_minute for t in granted)
        items = list(granted.items())
        taken = await self.relaxed.fetchrow(
            _BUDGET_TAKE_MANY,
            [t for t, _ in items],
            [_array_literal(d.calls) for _, (d, _) in items],
            [_array_literal(d.in_flight) for _, (d, _) in items],
            [_array_literal(r["calls"]) for _, (_, r) in items],
            [_array_literal(r["in_flight"]) for _, (_, r) in items],
            [r["blocked_until"] for _, (_, r) in items],
            now, app_limit,
        )
        won = set(taken["taken"] or ())
        if won and not taken["counted"]:
            # The whole app's minute is spent (10,000 calls): give every slot back.
            await self.relaxed.execute(
                "UPDATE rate_budget b SET in_flight = array_remove(b.in_flight, u.slot),"
                " calls = array_remove(b.calls, u.call)"
                " FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[])"
                " AS u(tenant_id, slot, call) WHERE b.tenant_id = u.tenant_id",
                list(won), [granted[t][0].in_flight[-1] for t in won],
                [granted[t][0].calls[-1] for t in won])
            for tenant_id in won:
                results[first_of[tenant_id]] = (budget.app_wait_s(now), None)
            return
        for tenant_id in won:
            results[first_of[tenant_id]] = (0.0, granted[tenant_id][0].in_flight[-1])

    async def _acquire_one(self, tenant_id: UUID, limits: budget.Limits) -> tuple[float, Any]:
        """One organisation's request.

        Two statements and no transaction: the organisation's row is read, decided on,
        and written back only if nobody (in any replica) changed it meanwhile (else it is
        read again). The app-wide minute is counted in the same statement as the write,
        and only when the write happened, so no lock is shared by every organisation."""
        for _ in range(_BUDGET_RACES):
            row = await self.relaxed.fetchrow(_BUDGET_READ, tenant_id)
            if row is None:
                await self.relaxed.execute(
                    "INSERT INTO rate_budget (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING",
                    tenant_id,
                )
                continue
            now: datetime = row["now"]
            decision = budget.decide(
                now, row["calls"], row["in_flight"], row["blocked_until"], limits
            )
            if not decision.granted:
                return decision.wait_s, None
            taken = await self.relaxed.fetchrow(
                _BUDGET_TAKE, tenant_id, list(decision.calls), list(decision.in_flight),
                row["calls"], row["in_flight"], row["blocked_until"], now,
                limits.app_per_minute,
            )
            if not taken["taken"]:
                continue  # another call of the organisation got there first: read again
            slot = decision.in_flight[-1]
            if not taken["counted"]:
                # The whole app's minute is spent (10,000 calls): give the slot back.
                await self.relaxed.execute(
                    "UPDATE rate_budget SET in_flight = array_remove(in_flight, $2),"
                    " calls = array_remove(calls, $3) WHERE tenant_id = $1",
                    tenant_id, slot, now,
                )
                return budget.app_wait_s(now), None
            return 0.0, slot
        return 0.01, None  # busy: the gateway asks again in a moment

    async def release_call(self, tenant_id: UUID, slot: datetime, block_until: datetime | None)\
            -> None:
        await self._call_releases.submit((tenant_id, slot, block_until))

    async def _release_calls(
        self, releases: Sequence[tuple[UUID, datetime, datetime | None]]
    ) -> list[None]:
        if len(releases) == 1:
            # The common case at a low rate. A join is planned (hash join over every
            # organisation's row: 0.46 ms with 600 of them), this probes the key (0.08).
            await self.relaxed.execute(_BUDGET_RELEASE_ONE, *releases[0])
            return [None]
        # Aggregated per organisation first: an UPDATE applies one joined row per target
        # row, and an organisation may end two calls in one group (its chart and a batch).
        await self.relaxed.execute(
            """
            UPDATE rate_budget b SET
                in_flight = ARRAY(SELECT s FROM unnest(b.in_flight) AS s
                                  WHERE s <> ALL(u.slots)),
                blocked_until = GREATEST(b.blocked_until, u.block_until)
            FROM (SELECT t, array_agg(slot) AS slots, max(block) AS block_until
                  FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[])
                      AS x(t, slot, block)
                  GROUP BY t) AS u
            WHERE b.tenant_id = u.t
            """,
            [tenant for tenant, _, _ in releases],
            [slot for _, slot, _ in releases],
            [block for _, _, block in releases],
        )
        return [None] * len(releases)

    # --- the chart of accounts, shared by the replicas ---

    async def load_chart(self, tenant_id: UUID) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self.relaxed.fetchrow(
            "SELECT accounts, organisation, last_modified, fetched_at, stale FROM charts"
            " WHERE tenant_id = $1",
            tenant_id,
        )
        return row

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

    # --- status ---

    async def status(self, store_id: str, business_date: Any) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT revision, state, attempts, journal_id, voided_at, last_error, outcome,"
            " updated_at FROM postings WHERE store_id = $1 AND business_date = $2"
            " ORDER BY revision",
            store_id,
            business_date,
        )
        return [
            {
                "revision": r["revision"],
                "state": r["state"],
                "attempts": r["attempts"],
                "journal_id": str(r["journal_id"]) if r["journal_id"] else None,
                "voided": r["voided_at"] is not None,
                "last_error": r["last_error"],
                "outcome": json.loads(r["outcome"]) if r["outcome"] else None,
                "updated_at": r["updated_at"].isoformat(),
            }
            for r in rows
        ]

    async def counts(self) -> dict[str, int]:
        rows = await self.pool.fetch("SELECT state, count(*) AS n FROM postings GROUP BY state")
        return {r["state"]: r["n"] for r in rows}


def after(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)
