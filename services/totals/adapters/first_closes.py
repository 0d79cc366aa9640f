"""Days closed for the first time, written in groups: the closes that arrive while a group
is being written go out together as one statement (one commit). A chain's end of day
is many stores closing at once, each close a request of its own; a group of them costs
PostgreSQL one commit and one round trip instead of one per close."""

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TypeAlias

import asyncpg

from services.totals.adapters.repository import DAYS_CHANNEL
from services.totals.service_layer.unit_of_work import DayKey, FirstClose
from shared.messaging.grouping import GroupedWriter
from shared.outbox import HandOff, OutboxRow, outbox_row

# The days, their first revisions and their events (written as `shared.outbox.enqueue`
# writes them), where the day is not there yet; a day that is (closed meanwhile) is left
# alone and not returned. NOTIFY only for a store someone waits on (`store_watched`,
# migration 006), with the payload `write_states` sends.
FIRST_CLOSES_SQL = """
WITH given AS (
    SELECT store_id, business_date, fingerprint, totals::jsonb, journal::jsonb, status,
           trigger, event_id, event_type, correlation_id, body
    FROM unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::text[], $6::text[],
                $7::text[], $8::uuid[], $9::text[], $10::text[], $11::text[])
        AS g(store_id, business_date, fingerprint, totals, journal, status, trigger,
             event_id, event_type, correlation_id, body)
), day AS (
    INSERT INTO days (store_id, business_date, revision, fingerprint, totals, journal,
                      status, trigger)
    SELECT store_id, business_date, 1, fingerprint, totals, journal, status, trigger
    FROM given ORDER BY store_id, business_date
    ON CONFLICT DO NOTHING RETURNING store_id, business_date, closed_at
), revision AS (
    INSERT INTO day_revisions (store_id, business_date, revision, totals, journal)
    SELECT g.store_id, g.business_date, 1, g.totals, g.journal
    FROM given g JOIN day USING (store_id, business_date)
), event AS (
    INSERT INTO outbox (event_id, event_type, correlation_id, body)
    SELECT g.event_id, g.event_type, g.correlation_id, g.body
    FROM given g JOIN day USING (store_id, business_date) WHERE g.event_id IS NOT NULL
)
SELECT store_id, business_date, closed_at,
       CASE WHEN store_watched(store_id) THEN
           pg_notify($12, json_build_array(store_id, business_date)::text) END
FROM day
"""


# What the database refuses in one close's values (a document it cannot store, a
# constraint), as against its being unreachable, which fails every close alike.
REFUSED = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError)

# When a close was written; None when its day was there already; the database's refusal
# of that close alone.
Written: TypeAlias = datetime | asyncpg.PostgresError | None


class PgFirstCloses:
    """Commits on `pool`, then hands the committed events to this process's relay."""

    def __init__(self, pool: asyncpg.Pool, handed: HandOff | None = None) -> None:
        self.pool = pool
        self.handed = handed or HandOff(limit=0)
        self._groups: GroupedWriter[FirstClose, Written] = GroupedWriter(
            self._write_groups, name="first-closes")

    async def stop(self) -> None:
        await self._groups.stop()

    async def add_first(self, close: FirstClose) -> datetime | None:
        written = await self._groups.submit(close)
        if isinstance(written, Exception):
            raise written
        return written

    async def _write_groups(self, closes: Sequence[FirstClose]) -> list[Written]:
        # A day twice in one group (a POS sending its close again at once) is written for
        # the first; the second finds it written, as it would in a later group.
        first_of: dict[DayKey, FirstClose] = {}
        for close in closes:
            first_of.setdefault(_day(close), close)
        written = await self._write_or_each_alone(list(first_of.values()))
        return [written[_day(c)] if first_of[_day(c)] is c else None for c in closes]

    async def _write_or_each_alone(self, closes: list[FirstClose]) -> dict[DayKey, Written]:
        """A close the database refuses fails alone: the group is written again one close
        at a time. An unreachable database fails them all, as it would each."""
        try:
            return await self._write(closes)
        except REFUSED:
            if len(closes) == 1:
                raise
        written: dict[DayKey, Written] = {}
        for close in closes:
            try:
                written |= await self._write([close])
            except REFUSED as exc:
                written[_day(close)] = exc
        return written

    async def _write(self, closes: list[FirstClose]) -> dict[DayKey, Written]:
        events = [outbox_row(c.event) if c.event is not None else None for c in closes]
        rows = await self.pool.fetch(
            FIRST_CLOSES_SQL,
            [c.store_id for c in closes],
            [c.business_date for c in closes],
            [c.state.fingerprint for c in closes],
            [json.dumps(c.totals, sort_keys=True) for c in closes],
            [c.journal.model_dump_json() if c.journal is not None else None for c in closes],
            [c.state.status.value for c in closes],
            [c.trigger.value for c in closes],
            [e.event_id if e else None for e in events],
            [e.event_type if e else None for e in events],
            [e.correlation_id if e else None for e in events],
            [e.body if e else None for e in events],
            DAYS_CHANNEL,
        )
        written = {(r["store_id"], r["business_date"]): r["closed_at"] for r in rows}
        self.handed(_committed(closes, events, written))
        return {_day(c): written.get(_day(c)) for c in closes}


def _day(close: FirstClose) -> DayKey:
    return close.store_id, close.business_date


def _committed(closes: list[FirstClose], events: list[OutboxRow | None],
               written: dict[DayKey, datetime]) -> list[OutboxRow]:
    return [event for close, event in zip(closes, events, strict=True)
            if event is not None and _day(close) in written]
