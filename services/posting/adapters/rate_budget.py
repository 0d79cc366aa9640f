"""Xero's limits in PostgreSQL, shared by every replica: each organisation's calls in
the minute and in flight (`rate_budget`), and the app's calls in the minute
(`app_budget`). The decisions are `domain/budget.py`'s; a row is written back only if
no other call changed it since it was read.

A replica keeps each row as its own last statement left it. A call of that organisation
is decided on that copy, with the database's clock estimated from its last reading, and
written straight away: the write succeeds only if the row is still the copy and the
database's clock has reached the time the decision was made for, so a stale copy or a
clock read ahead costs one read more, never a call too many. (A decision made for an
earlier time stays right later: calls only leave the window, slots only expire.) An
organisation drained by one replica is thus decided in one statement, not two."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from services.posting.adapters.day_budget import PgDayBudget, count_calls, count_columns
from services.posting.domain import budget
from services.posting.domain.day_budget import Answered, DayCount
from services.posting.domain.records import RateInfo
from shared.messaging.grouping import GroupedWriter

# How often a budget decision is read again after another call changed the row first.
_BUDGET_RACES = 5
_BUDGET_READ = (
    "SELECT calls, in_flight, blocked_until, clock_timestamp() AS now FROM rate_budget"
    " WHERE tenant_id = $1"
)
# Written only if the row is still as read ($4-$6) and the database's clock has reached the
# decision's time ($7); the app's minute is counted only then. It answers with the row as
# the statement found it (its snapshot, taken before the write), to decide on again when
# the write did not happen.
_BUDGET_TAKE = """
WITH taken AS (
    UPDATE rate_budget SET calls = $2, in_flight = $3
    WHERE tenant_id = $1 AND calls = $4 AND in_flight = $5
      AND blocked_until IS NOT DISTINCT FROM $6 AND clock_timestamp() >= $7
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
SELECT EXISTS (SELECT 1 FROM taken) AS taken, EXISTS (SELECT 1 FROM counted) AS counted,
       b.calls, b.in_flight, b.blocked_until, clock_timestamp() AS now
FROM (SELECT 1) AS one LEFT JOIN rate_budget b ON b.tenant_id = $1
"""

_BUDGET_RELEASE_ONE = (
    "UPDATE rate_budget SET in_flight = array_remove(in_flight, $2),"
    " blocked_until = GREATEST(blocked_until, $3) WHERE tenant_id = $1"
    " RETURNING tenant_id, calls, in_flight, blocked_until"
)
# Aggregated per organisation first: an UPDATE applies one joined row per target row, and
# an organisation may end two calls in one group (its chart and a batch).
_BUDGET_RELEASE_MANY = """
UPDATE rate_budget b SET
    in_flight = ARRAY(SELECT s FROM unnest(b.in_flight) AS s WHERE s <> ALL(u.slots)),
    blocked_until = GREATEST(b.blocked_until, u.block_until)
FROM (SELECT t, array_agg(slot) AS slots, max(block) AS block_until
      FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS x(t, slot, block)
      GROUP BY t) AS u
WHERE b.tenant_id = u.t
RETURNING b.tenant_id, b.calls, b.in_flight, b.blocked_until"""


def _ending(release: str) -> str:
    """Calls ended in one statement: their slots given back, and those Xero answered
    counted in their organisations' days (`adapters/day_budget.py`). Each row says what
    one budget now holds: the minute's (calls set) or the day's (calls null)."""
    return f"""
WITH released AS ({release}), counted AS ({count_calls(4)})
SELECT tenant_id, calls, in_flight, blocked_until, NULL::timestamptz AS window_start,
       NULL::int AS used, NULL::int AS xero_remaining, NULL::timestamptz AS day_blocked
FROM released
UNION ALL
SELECT tenant_id, NULL::timestamptz[], NULL::timestamptz[], NULL::timestamptz,
       window_start, used, xero_remaining, blocked_until
FROM counted
"""  # noqa: S608 (our own statements)


_END_ONE = _ending(_BUDGET_RELEASE_ONE)
_END_MANY = _ending(_BUDGET_RELEASE_MANY)
_BUDGET_READ_MANY = (
    "SELECT tenant_id, calls, in_flight, blocked_until, clock_timestamp() AS now"
    " FROM rate_budget WHERE tenant_id = ANY($1::uuid[])"
)
# Per organisation as _BUDGET_TAKE (written only if still as read, answered with the rows
# as found); the arrays travel as array literals because PostgreSQL has no arrays of
# arrays of different lengths.
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
      AND clock_timestamp() >= $7
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
SELECT b.tenant_id, b.calls, b.in_flight, b.blocked_until, clock_timestamp() AS now,
       b.tenant_id IN (SELECT tenant_id FROM taken) AS taken,
       (SELECT EXISTS (SELECT 1 FROM counted)) AS counted
FROM rate_budget b WHERE b.tenant_id = ANY($1::uuid[])
"""


def _array_literal(stamps: Sequence[datetime]) -> str:
    """A timestamptz[] literal; isoformat keeps the microseconds the comparison needs."""
    return "{" + ",".join(f'"{stamp.isoformat()}"' for stamp in stamps) + "}"


@dataclass(frozen=True)
class _Row:
    """An organisation's budget row as a statement of this replica last saw it."""

    calls: tuple[datetime, ...]
    in_flight: tuple[datetime, ...]
    blocked_until: datetime | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> "_Row":
        return cls(tuple(row["calls"]), tuple(row["in_flight"]), row["blocked_until"])


@dataclass(frozen=True)
class _Found:
    """A row as a statement found it, and the database's clock then."""

    row: _Row
    now: datetime


def _found(answer: asyncpg.Record, tried: _Row, tried_at: datetime) -> _Found | None:
    """What a write that did not happen found, to decide on next. None (read the row)
    when there is no row, or when it found the row it was given at a time the clock had
    reached: another write changed the row while this one waited for it, after the
    statement's snapshot was taken."""
    if answer["calls"] is None:
        return None
    row = _Row.of(answer)
    if row == tried and answer["now"] >= tried_at:
        return None
    return _Found(row, answer["now"])


# A call ended: its organisation, its slot, until when Xero blocks the organisation, and
# the call to count in its day (None: not answered, or no day budget here).
_Ending = tuple[UUID, datetime, datetime | None, Answered | None]


class PostgresRateBudget:
    """On the `relaxed` pool: the budget is worth little after a database crash, and its
    commits are the most frequent."""

    def __init__(self, relaxed: asyncpg.Pool, day: PgDayBudget | None = None,
                 rows_kept: int = 2000) -> None:
        self.relaxed = relaxed
        # A row holds up to a minute's call times (60): a few KB for a busy organisation.
        self.rows_kept = rows_kept
        # The organisations' days, counted as their calls end (`release_call`).
        self.day = day
        self._call_releases = GroupedWriter(self._release_calls, name="release-call")
        self._acquires = GroupedWriter(self._acquire_group, name="acquire-call")
        # Each organisation's row as this replica's last statement left it, the oldest
        # first.
        self._rows: dict[UUID, _Row] = {}
        # The database's clock minus ours, as last read (clock_timestamp() at the
        # database, our clock when the answer came: never ahead of the database's).
        self._clock_offset: timedelta | None = None

    async def stop(self) -> None:
        await self._call_releases.stop()
        await self._acquires.stop()

    async def acquire_call(self, tenant_id: UUID, limits: budget.Limits) -> tuple[float, Any]:
        """(0, slot) when a call may start now, else (seconds to wait, None). Requests of
        drains running side by side are decided together (see `_acquire_group`)."""
        return await self._acquires.submit((tenant_id, limits))

    def _keep(self, tenant_id: UUID, row: _Row) -> None:
        """The organisation's row as a statement left it: the latest `rows_kept` are kept
        (one dropped is read again at its next call)."""
        self._rows.pop(tenant_id, None)
        self._rows[tenant_id] = row
        if len(self._rows) > self.rows_kept:
            del self._rows[next(iter(self._rows))]

    def _read_clock(self, database_now: datetime) -> None:
        self._clock_offset = database_now - datetime.now(UTC)

    def _database_now(self) -> datetime | None:
        if self._clock_offset is None:
            return None
        return datetime.now(UTC) + self._clock_offset

    async def _acquire_group(
        self, requests: Sequence[tuple[UUID, budget.Limits]]
    ) -> list[tuple[float, Any]]:
        """Many organisations' requests in one or two statements: the rows this replica
        does not know read, each decided here, and every granted one written back only
        where the row is still as decided on (and the app-wide minute counted for all of
        them at once). Whatever lost a race, was refused on a copy, or asks for an
        organisation twice, takes the one-by-one path."""
        first_of: dict[UUID, int] = {}
        for index, (tenant_id, _) in enumerate(requests):
            first_of.setdefault(tenant_id, index)
        results: list[tuple[float, Any] | None] = [None] * len(requests)
        found: dict[UUID, _Found] = {}
        if len(first_of) > 1:
            found = await self._decide_together(requests, first_of, results)
        rest = [index for index, result in enumerate(results) if result is None]
        for index, result in zip(rest, await asyncio.gather(
                *(self._acquire_one(*requests[index], found.pop(requests[index][0], None))
                  for index in rest)), strict=True):
            results[index] = result
        return [r for r in results if r is not None]

    async def _decide_together(
        self, requests: Sequence[tuple[UUID, budget.Limits]], first_of: dict[UUID, int],
        results: list[tuple[float, Any] | None],
    ) -> dict[UUID, _Found]:
        """Fills in `results` where it can; returns the rows of organisations whose write
        did not happen, as the write found them."""
        # Decided on the copies taken out here: a request of the same organisation made
        # meanwhile reads its row.
        rows = {t: row for t in first_of if (row := self._rows.pop(t, None)) is not None}
        unknown = [t for t in first_of if t not in rows]
        now = self._database_now()
        if unknown or now is None:
            read = await self.relaxed.fetch(_BUDGET_READ_MANY, unknown)
            for record in read:
                rows[record["tenant_id"]] = _Row.of(record)
            if read:
                now = max(record["now"] for record in read)
                self._read_clock(now)
        if now is None:
            return {}  # new organisations only: their rows are made one by one
        granted: dict[UUID, tuple[budget.Decision, _Row]] = {}
        for tenant_id, index in first_of.items():
            row = rows.get(tenant_id)
            if row is None:
                continue  # a new organisation: its row is made on the one-by-one path
            decision = budget.decide(now, row.calls, row.in_flight, row.blocked_until,
                                     requests[index][1])
            if decision.granted:
                granted[tenant_id] = (decision, row)
            elif tenant_id in unknown:
                results[index] = (decision.wait_s, None)
            # else refused on a copy: asked again on a fresh read, one by one
        if not granted:
            return {}
        app_limit = min(requests[first_of[t]][1].app_per_minute for t in granted)
        items = list(granted.items())
        answers = await self.relaxed.fetch(
            _BUDGET_TAKE_MANY,
            [t for t, _ in items],
            [_array_literal(d.calls) for _, (d, _) in items],
            [_array_literal(d.in_flight) for _, (d, _) in items],
            [_array_literal(r.calls) for _, (_, r) in items],
            [_array_literal(r.in_flight) for _, (_, r) in items],
            [r.blocked_until for _, (_, r) in items],
            now, app_limit,
        )
        won = {a["tenant_id"] for a in answers if a["taken"]}
        if won and not answers[0]["counted"]:
            await self._give_back({t: granted[t][0] for t in won})
            for tenant_id in won:
                results[first_of[tenant_id]] = (budget.app_wait_s(now), None)
            return {}
        for tenant_id in won:
            decision, row = granted[tenant_id]
            self._keep(tenant_id, _Row(decision.calls, decision.in_flight, row.blocked_until))
            results[first_of[tenant_id]] = (0.0, decision.in_flight[-1])
        lost = {a["tenant_id"]: _found(a, granted[a["tenant_id"]][1], now)
                for a in answers if not a["taken"]}
        return {tenant: seen for tenant, seen in lost.items() if seen is not None}

    async def _acquire_one(self, tenant_id: UUID, limits: budget.Limits,
                           found: _Found | None = None) -> tuple[float, Any]:
        """One organisation's request.

        No transaction, and one statement when this replica's copy of the row is right:
        the row (the copy, else read) is decided on, and written back only if nobody (in
        any replica) changed it meanwhile; else decided again on the row as the write
        found it. The app-wide minute is counted in the same statement as the write, and
        only when the write happened, so no lock is shared by every organisation."""
        copy = self._rows.pop(tenant_id, None)
        row, now, fresh = copy, self._database_now(), False
        if found is not None:
            row, now, fresh = found.row, found.now, True
        for _ in range(_BUDGET_RACES):
            if row is None or now is None:
                record = await self.relaxed.fetchrow(_BUDGET_READ, tenant_id)
                if record is None:
                    await self.relaxed.execute(
                        "INSERT INTO rate_budget (tenant_id) VALUES ($1)"
                        " ON CONFLICT DO NOTHING", tenant_id)
                    continue
                row, now, fresh = _Row.of(record), record["now"], True
                self._read_clock(now)
            decision = budget.decide(now, row.calls, row.in_flight, row.blocked_until, limits)
            if not decision.granted:
                if fresh:
                    return decision.wait_s, None
                row = None  # refused on a copy: read the row
                continue
            answer = await self.relaxed.fetchrow(
                _BUDGET_TAKE, tenant_id, list(decision.calls), list(decision.in_flight),
                list(row.calls), list(row.in_flight), row.blocked_until, now,
                limits.app_per_minute,
            )
            if answer["taken"] and not answer["counted"]:
                await self._give_back({tenant_id: decision})
                return budget.app_wait_s(now), None
            if answer["taken"]:
                self._keep(tenant_id, _Row(decision.calls, decision.in_flight,
                                           row.blocked_until))
                return 0.0, decision.in_flight[-1]
            seen = _found(answer, row, now)
            if seen is None:
                row = None
                continue
            row, now, fresh = seen.row, seen.now, True
            self._read_clock(now)
        return 0.01, None  # busy: the gateway asks again in a moment

    async def _give_back(self, granted: dict[UUID, budget.Decision]) -> None:
        """The whole app's minute is spent (10,000 calls): the slots and calls just
        written are taken out again."""
        await self.relaxed.execute(
            "UPDATE rate_budget b SET in_flight = array_remove(b.in_flight, u.slot),"
            " calls = array_remove(b.calls, u.call)"
            " FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[])"
            " AS u(tenant_id, slot, call) WHERE b.tenant_id = u.tenant_id",
            list(granted), [d.in_flight[-1] for d in granted.values()],
            [d.calls[-1] for d in granted.values()])

    async def release_call(self, tenant_id: UUID, slot: datetime,
                           block_until: datetime | None,
                           answered: RateInfo | None = None) -> None:
        """Gives the slot back; a call Xero answered is counted in the organisation's day
        in the same statement (when this budget has the day's: `day`)."""
        answer = None if answered is None or self.day is None else \
            Answered(tenant_id, datetime.now(UTC), answered)
        await self._call_releases.submit((tenant_id, slot, block_until, answer))

    async def _release_calls(self, releases: Sequence[_Ending]) -> list[None]:
        # Only made where there is a day budget (`release_call`).
        answers = [answer for *_, answer in releases if answer is not None]
        # One by one, the common case at a low rate, probes the key (0.08 ms): a join is
        # planned as a hash join over every organisation's row (0.46 ms with 600).
        one = len(releases) == 1
        args: list[Any] = list(releases[0][:3]) if one else [
            [tenant for tenant, *_ in releases], [slot for _, slot, *_ in releases],
            [block for _, _, block, _ in releases]]
        if answers:
            rows = await self.relaxed.fetch(_END_ONE if one else _END_MANY,
                                            *args, *count_columns(answers))
        else:
            rows = await self.relaxed.fetch(
                _BUDGET_RELEASE_ONE if one else _BUDGET_RELEASE_MANY, *args)
        days: list[tuple[UUID, DayCount]] = []
        for record in rows:
            if record["calls"] is not None:
                self._keep(record["tenant_id"], _Row.of(record))
            else:
                days.append((record["tenant_id"], DayCount(
                    record["window_start"], record["used"], record["xero_remaining"],
                    record["day_blocked"])))
        if self.day is not None:
            self.day.remember(days)
        return [None] * len(releases)
