"""The drain's side of the postings table: claims, in-flight marks, outcomes and waits.

Many organisations drain side by side, each writing its own bookkeeping after every
call: writes that arrive together go out as one statement (one commit), so under load
the round trips per Xero call fall with the number of drains."""

from collections.abc import Mapping, Sequence
from uuid import UUID

import asyncpg

from services.posting.adapters.outcomes import posting_of, write_outcomes
from services.posting.domain.model import Posting
from services.posting.domain.records import Claimed, Outcome, Reschedule
from shared.messaging.grouping import GroupedWriter
from shared.outbox import HandOff

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


def _expected(posting_id: int, expected: Mapping[int, int] | None) -> int | None:
    return None if expected is None else expected.get(posting_id)



class PostgresPostings:
    """Commits durably on `pool` (outcomes carry the outbox's events)."""

    def __init__(self, pool: asyncpg.Pool, handed: HandOff | None = None) -> None:
        self.pool = pool
        # Committed events go to this process's relay at once (without one: its sweep).
        self.handed = handed or HandOff(limit=0)
        self._settles = GroupedWriter(self._settle_groups, name="settle")
        self._in_flight = GroupedWriter(self._mark_in_flight_groups, name="in-flight")
        self._reschedules = GroupedWriter(self._reschedule_groups, name="reschedule")
        self._claims = GroupedWriter(self._claim_groups, name="claim-batch")

    async def stop(self) -> None:
        for writer in (self._settles, self._in_flight, self._reschedules, self._claims):
            await writer.stop()

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
                posting_of(r), r["newer"], tuple(r["to_void"] or ()), r["waits"], r["age_s"],
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
            written = await write_outcomes(
                conn, [o for o, _ in items], [attempts for _, attempts in items])
        self.handed(written)
        return [None] * len(groups)

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
