"""PostgreSQL storage of setups and days; every change of a day is one short transaction
that also enqueues its event (outbox) and notifies waiting POS requests."""

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.totals.domain.day import (
    DayState,
    DayStatus,
    Decision,
    apply_failed,
    apply_succeeded,
    decide_close,
    decide_post,
)
from services.totals.domain.journal import BuiltDay, make_journal
from services.totals.domain.records import (
    ACTIVE,
    DayRecord,
    KeyRecord,
    SetupRecord,
    day_correlation_id,
)
from services.totals.domain.setup import StoreSetup
from shared.contracts.events import (
    GlPostingFailed,
    GlPostingSucceeded,
    Journal,
    StoreTotalsClosed,
    Trigger,
)
from shared.outbox import HandOff, Transaction, outbox_row, transaction

DAYS_CHANNEL = "totals_days"
SETUPS_CHANNEL = "totals_setups"


class MissingKey(Exception):
    """A first setup without an API key."""


class TotalsRepository:
    def __init__(self, pool: asyncpg.Pool, handed: HandOff | None = None) -> None:
        self.pool = pool
        # Committed events go to this process's relay at once; without one (another
        # replica's view in a test), the relay's sweep publishes them.
        self.handed = handed or HandOff(limit=0)

    # --- setups -------------------------------------------------------------------

    async def get_setup(self, store_id: str) -> SetupRecord | None:
        row = await self.pool.fetchrow("SELECT * FROM setups WHERE store_id = $1", store_id)
        return _setup(row) if row else None

    async def store_for_key(self, api_key_hash: str) -> str | None:
        value: str | None = await self.pool.fetchval(
            "SELECT store_id FROM setups WHERE api_key_hash = $1", api_key_hash
        )
        return value

    async def save_setup(
        self, store_id: str, setup: StoreSetup, key: KeyRecord | None
    ) -> tuple[SetupRecord, list[DayRecord]]:
        """Saves a setup; with a new working key, days held for one are released (returned)."""
        body = setup.model_dump_json()
        async with transaction(self.pool, self.handed) as tx:
            conn = tx.conn
            if key is None:
                row = await conn.fetchrow(
                    "UPDATE setups SET setup = $2::jsonb, updated_at = now()"
                    " WHERE store_id = $1 RETURNING *", store_id, body)
                if row is None:
                    raise MissingKey(store_id)
            else:
                # A key moving from another store's setup would fail the UNIQUE hash: the
                # caller verified with auth that the key belongs to this store.
                row = await conn.fetchrow(
                    "INSERT INTO setups (store_id, api_key_hash, connection_id, tenant_id,"
                    " tenant_name, connection_status, setup) VALUES ($1,$2,$3,$4,$5,$6,$7::jsonb)"
                    " ON CONFLICT (store_id) DO UPDATE SET api_key_hash = EXCLUDED.api_key_hash,"
                    " connection_id = EXCLUDED.connection_id, tenant_id = EXCLUDED.tenant_id,"
                    " tenant_name = EXCLUDED.tenant_name,"
                    " connection_status = EXCLUDED.connection_status,"
                    " setup = EXCLUDED.setup, updated_at = now() RETURNING *",
                    store_id, key.api_key_hash, key.connection_id, key.tenant_id,
                    key.tenant_name, key.connection_status, body)
            record = _setup(row)
            released = await self._release_held(tx, [record]) if record.connection_ok else []
            await conn.execute("SELECT pg_notify($1, $2)", SETUPS_CHANNEL, store_id)
        return record, released

    async def mark_connection(self, connection_id: UUID, status: str) -> list[DayRecord]:
        """Records a connection's state for its stores; returns days it changed."""
        async with transaction(self.pool, self.handed) as tx:
            conn = tx.conn
            # By connection only: a store that already moved to a new connection (a new
            # key) is not touched by news about its old one.
            rows = await conn.fetch(
                "UPDATE setups SET connection_status = $2, updated_at = now()"
                " WHERE connection_id = $1 RETURNING *", connection_id, status)
            records = [_setup(row) for row in rows]
            for record in records:
                await conn.execute("SELECT pg_notify($1, $2)", SETUPS_CHANNEL, record.store_id)
            if status == ACTIVE:
                return await self._release_held(tx, records)
            return await self._hold_pending(conn, [r.store_id for r in records])

    async def _release_held(
        self, tx: Transaction, records: list[SetupRecord]
    ) -> list[DayRecord]:
        released = []
        for record in records:
            rows = await tx.conn.fetch(
                "SELECT * FROM days WHERE store_id = $1"
                " AND status = 'waiting-for-new-key' FOR UPDATE", record.store_id)
            for row in rows:
                day = _day(row)
                if day.journal is None:
                    continue
                await self._write_state(tx.conn, day.store_id, day.business_date,
                                        _with_status(day.state, DayStatus.PENDING))
                await tx.enqueue(_event(day, day.journal, Trigger(day.trigger or
                                        Trigger.END_OF_DAY), record))
                released.append(day)
        return released

    async def _hold_pending(
        self, conn: asyncpg.Connection, store_ids: list[str]
    ) -> list[DayRecord]:
        rows = await conn.fetch(
            "UPDATE days SET status = 'waiting-for-new-key', updated_at = now()"
            " WHERE store_id = ANY($1::text[]) AND status = 'pending' RETURNING *", store_ids)
        days = [_day(row) for row in rows]
        for day in days:
            await _notify_day(conn, day.store_id, day.business_date)
        return days

    # --- days ---------------------------------------------------------------------

    async def get_day(self, store_id: str, business_date: date) -> DayRecord | None:
        row = await self.pool.fetchrow(
            "SELECT * FROM days WHERE store_id = $1 AND business_date = $2",
            store_id, business_date)
        return _day(row) if row else None

    async def close_day(
        self,
        setup: SetupRecord,
        business_date: date,
        totals: dict[str, Any],
        day: BuiltDay,
        trigger: Trigger = Trigger.END_OF_DAY,
    ) -> tuple[Decision, DayRecord]:
        """One short transaction: the day, its revision, its event (outbox), a NOTIFY."""
        store_id = setup.store_id
        first = await self._first_close(setup, business_date, totals, day, trigger)
        if first is not None:
            return first
        async with transaction(self.pool, self.handed) as tx:
            conn = tx.conn
            row = await conn.fetchrow(
                "SELECT * FROM days WHERE store_id = $1 AND business_date = $2"
                " FOR UPDATE", store_id, business_date)
            current = _day(row) if row else None
            decision = decide_close(current.state if current else None, day,
                                    setup.setup.auto_post, setup.connection_ok)
            if current is not None and not decision.changed:
                return decision, current
            journal = None if day.nothing_to_post else make_journal(
                store_id, business_date, decision.state.revision, day)
            stamp = await self._write_revision(conn, store_id, business_date, decision.state,
                                               totals, journal, trigger, insert=row is None)
            if decision.publish and journal is not None:
                await tx.enqueue(_new_event(store_id, business_date, decision.state.revision,
                                            journal, trigger, setup))
        written = DayRecord(store_id, business_date, decision.state, totals, journal,
                            trigger.value, stamp, stamp)
        return decision, written

    async def _first_close(
        self, setup: SetupRecord, business_date: date, totals: dict[str, Any], day: BuiltDay,
        trigger: Trigger,
    ) -> tuple[Decision, DayRecord] | None:
        """The common case, a day closed for the first time, as ONE statement (atomic on its
        own: no BEGIN/COMMIT round trips). None when the day exists: take the full path."""
        store_id = setup.store_id
        decision = decide_close(None, day, setup.setup.auto_post, setup.connection_ok)
        journal = None if day.nothing_to_post else make_journal(store_id, business_date, 1, day)
        event = None
        if decision.publish and journal is not None:
            event = outbox_row(_new_event(store_id, business_date, 1, journal, trigger, setup))
        totals_json = json.dumps(totals, sort_keys=True)
        stamp: datetime | None = await self.pool.fetchval(
            FIRST_CLOSE_SQL,
            store_id, business_date, day.fingerprint, totals_json,
            journal.model_dump_json() if journal is not None else None,
            decision.state.status.value, trigger.value,
            event.event_id if event else None, event.event_type if event else None,
            event.correlation_id if event else None, event.body if event else None,
            DAYS_CHANNEL, _day_payload(store_id, business_date),
        )
        if stamp is None:
            return None
        if event is not None:
            self.handed([event])
        return decision, DayRecord(store_id, business_date, decision.state, totals, journal,
                                   trigger.value, stamp, stamp)

    async def post_day(self, setup: SetupRecord, business_date: date, day: BuiltDay
                       ) -> tuple[Decision, DayRecord] | None:
        """A manual post (reprint with "post to Xero"); None when the day was never closed."""
        store_id = setup.store_id
        async with transaction(self.pool, self.handed) as tx:
            conn = tx.conn
            row = await conn.fetchrow(
                "SELECT * FROM days WHERE store_id = $1 AND business_date = $2"
                " FOR UPDATE", store_id, business_date)
            if row is None:
                return None
            record = _day(row)
            decision = decide_post(record.state, day, setup.connection_ok)
            if not decision.changed:
                return decision, record
            trigger = Trigger.MANUAL_REPRINT
            journal = record.journal
            if decision.state.revision != record.state.revision:
                journal = None if day.nothing_to_post else make_journal(
                    store_id, business_date, decision.state.revision, day)
                await self._write_revision(conn, store_id, business_date, decision.state,
                                           record.totals, journal, trigger, insert=False)
            else:
                await self._write_state(conn, store_id, business_date, decision.state,
                                        trigger=trigger)
            if decision.publish and journal is not None:
                await tx.enqueue(_new_event(store_id, business_date, decision.state.revision,
                                            journal, trigger, setup))
            return decision, record

    async def apply_results(
        self, events: Sequence[GlPostingSucceeded | GlPostingFailed]
    ) -> list[bool]:
        """Several outcomes in two statements and no transaction: the days' states read,
        decided here in arrival order, and the changed ones written (with their NOTIFYs)
        only where the day is still as read. A day another writer changed meanwhile is
        read and decided again. True where a day changed."""
        results = [False] * len(events)
        pending = list(range(len(events)))
        while pending:
            keys = sorted({(events[i].store_id, events[i].business_date) for i in pending})
            rows = await self.pool.fetch(STATES_OF_DAYS,
                                         [store for store, _ in keys], [day for _, day in keys])
            read = {(r["store_id"], r["business_date"]): (_state(r), r["version"])
                    for r in rows}
            states = {key: state for key, (state, _) in read.items()}
            changed: dict[tuple[str, date], DayState] = {}
            for i in pending:
                event = events[i]
                key = (event.store_id, event.business_date)
                current = states.get(key)
                new = None if current is None else (
                    apply_succeeded(current, event) if isinstance(event, GlPostingSucceeded)
                    else apply_failed(current, event))
                if new is not None:
                    states[key] = changed[key] = new
                results[i] = new is not None
            written = await self._write_states(
                changed, {key: read[key][1] for key in changed}) if changed else set()
            pending = [i for i in pending if (events[i].store_id, events[i].business_date)
                       in changed.keys() - written]
        return results

    async def _write_states(
        self, states: dict[tuple[str, date], DayState], versions: dict[tuple[str, date], str]
    ) -> set[tuple[str, date]]:
        """Writes each day whose row version is still `versions`' (its xmin: any write of
        the row changes it); the days written."""
        items = list(states.items())
        rows = await self.pool.fetch(
            """
            WITH written AS (
                UPDATE days d SET status = u.status, journal_id = u.journal_id,
                    posted_revision = u.posted_revision,
                    replaced_journal_id = u.replaced_journal_id, errors = u.errors::jsonb,
                    retryable = u.retryable, updated_at = now()
                FROM unnest($1::text[], $2::date[], $3::text[], $4::uuid[], $5::int[],
                    $6::uuid[], $7::text[], $8::bool[], $9::text[])
                    AS u(store_id, business_date, status, journal_id, posted_revision,
                         replaced_journal_id, errors, retryable, version)
                WHERE d.store_id = u.store_id AND d.business_date = u.business_date
                    AND d.xmin::text = u.version
                RETURNING d.store_id, d.business_date
            )
            SELECT store_id, business_date,
                   pg_notify($10, json_build_array(store_id, business_date)::text)
            FROM written
            """,
            [store for (store, _), _ in items],
            [day for (_, day), _ in items],
            [state.status.value for _, state in items],
            [state.journal_id for _, state in items],
            [state.posted_revision for _, state in items],
            [state.replaced_journal_id for _, state in items],
            [json.dumps(list(state.errors)) for _, state in items],
            [state.retryable for _, state in items],
            [versions[key] for key, _ in items],
            DAYS_CHANNEL,
        )
        return {(row["store_id"], row["business_date"]) for row in rows}

    async def _write_revision(
        self, conn: asyncpg.Connection, store_id: str, business_date: date, state: DayState,
        totals: dict[str, Any], journal: Journal | None, trigger: Trigger, insert: bool,
    ) -> datetime:
        totals_json = json.dumps(totals, sort_keys=True)
        journal_json = journal.model_dump_json() if journal is not None else None
        if insert:
            stamp = await conn.fetchval(
                "INSERT INTO days (store_id, business_date, revision, fingerprint, totals,"
                " journal, status, trigger) VALUES ($1,$2,$3,$4,$5::jsonb,$6::jsonb,$7,$8)"
                " ON CONFLICT DO NOTHING RETURNING closed_at",
                store_id, business_date, state.revision, state.fingerprint, totals_json,
                journal_json, state.status.value, trigger.value)
            if stamp is None:
                raise ConcurrentClose(store_id, business_date)
        else:
            stamp = await conn.fetchval(
                "UPDATE days SET revision = $3, fingerprint = $4, totals = $5::jsonb,"
                " journal = $6::jsonb, status = $7, trigger = $8, errors = '[]',"
                " retryable = NULL, closed_at = now(), updated_at = now()"
                " WHERE store_id = $1 AND business_date = $2 RETURNING closed_at",
                store_id, business_date, state.revision, state.fingerprint, totals_json,
                journal_json, state.status.value, trigger.value)
        # The revision's record and the NOTIFY (delivered at commit) in one round trip.
        await conn.execute(
            "WITH revision AS (INSERT INTO day_revisions (store_id, business_date, revision,"
            " totals, journal) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)"
            " ON CONFLICT DO NOTHING) SELECT pg_notify($6, $7)",
            store_id, business_date, state.revision, totals_json, journal_json, DAYS_CHANNEL,
            _day_payload(store_id, business_date))
        stamp_at: datetime = stamp
        return stamp_at

    async def _write_state(
        self, conn: asyncpg.Connection, store_id: str, business_date: date, state: DayState,
        trigger: Trigger | None = None,
    ) -> None:
        await conn.execute(
            "UPDATE days SET status = $3, journal_id = $4, posted_revision = $5,"
            " replaced_journal_id = $6, errors = $7::jsonb, retryable = $8,"
            " trigger = coalesce($9, trigger), updated_at = now()"
            " WHERE store_id = $1 AND business_date = $2",
            store_id, business_date, state.status.value, state.journal_id,
            state.posted_revision, state.replaced_journal_id, json.dumps(list(state.errors)),
            state.retryable, trigger.value if trigger else None)
        await _notify_day(conn, store_id, business_date)


# One index probe per day, in the keys' order: OFFSET 0 keeps the LATERAL subquery from
# being flattened into a join. The join was cached by PostgreSQL as a scan of every day
# (planned while the table was still small): 1 ms a group after 3,000 days, where the
# probes take 0.05. `version` is the row's xmin, which every write of the row changes.
STATES_OF_DAYS = (
    "SELECT d.* FROM unnest($1::text[], $2::date[]) AS k(store_id, day)"
    " CROSS JOIN LATERAL (SELECT store_id, business_date, revision, fingerprint,"
    " status, posted_revision, journal_id, replaced_journal_id, errors, retryable,"
    " xmin::text AS version"
    " FROM days WHERE store_id = k.store_id AND business_date = k.day OFFSET 0) AS d"
)

# The outbox row is written as `shared.outbox.enqueue` writes it (same columns), folded
# into the one statement; the caller hands it to the relay once the statement returns.
FIRST_CLOSE_SQL = """
WITH day AS (
    INSERT INTO days (store_id, business_date, revision, fingerprint, totals, journal,
                      status, trigger)
    VALUES ($1, $2, 1, $3, $4::jsonb, $5::jsonb, $6, $7)
    ON CONFLICT DO NOTHING RETURNING closed_at
), revision AS (
    INSERT INTO day_revisions (store_id, business_date, revision, totals, journal)
    SELECT $1, $2, 1, $4::jsonb, $5::jsonb FROM day
), event AS (
    INSERT INTO outbox (event_id, event_type, correlation_id, body)
    SELECT $8::uuid, $9::text, $10::text, $11::text FROM day WHERE $8::uuid IS NOT NULL
)
SELECT closed_at, pg_notify($12, $13) FROM day
"""


class ConcurrentClose(Exception):
    """Two first closes of one day raced; the loser runs again and sees the winner's."""


def _day_payload(store_id: str, business_date: date) -> str:
    return json.dumps([store_id, business_date.isoformat()])


async def _notify_day(conn: asyncpg.Connection, store_id: str, business_date: date) -> None:
    # Delivered at commit, to every replica's listener: waiters re-read the day then.
    await conn.execute("SELECT pg_notify($1, $2)", DAYS_CHANNEL,
                       _day_payload(store_id, business_date))


def _new_event(
    store_id: str, business_date: date, revision: int, journal: Journal, trigger: Trigger,
    setup: SetupRecord,
) -> StoreTotalsClosed:
    return StoreTotalsClosed(
        correlation_id=day_correlation_id(store_id, business_date),
        store_id=store_id,
        business_date=business_date,
        revision=revision,
        trigger=trigger,
        connection_id=setup.key.connection_id,
        tenant_id=setup.key.tenant_id,
        journal=journal,
    )


def _event(day: DayRecord, journal: Journal, trigger: Trigger, setup: SetupRecord
           ) -> StoreTotalsClosed:
    return _new_event(day.store_id, day.business_date, day.state.revision, journal, trigger,
                      setup)


def _with_status(state: DayState, status: DayStatus) -> DayState:
    return DayState(state.revision, state.fingerprint, status, state.posted_revision,
                    state.journal_id, state.replaced_journal_id, (), None)


def _setup(row: asyncpg.Record) -> SetupRecord:
    return SetupRecord(
        store_id=row["store_id"],
        key=KeyRecord(row["api_key_hash"], row["connection_id"], row["tenant_id"],
                      row["tenant_name"], row["connection_status"]),
        setup=StoreSetup.model_validate_json(row["setup"]),
        updated_at=row["updated_at"],
    )


def _state(row: asyncpg.Record) -> DayState:
    return DayState(
        revision=row["revision"],
        fingerprint=row["fingerprint"],
        status=DayStatus(row["status"]),
        posted_revision=row["posted_revision"],
        journal_id=row["journal_id"],
        replaced_journal_id=row["replaced_journal_id"],
        errors=tuple(json.loads(row["errors"])),
        retryable=row["retryable"],
    )


def _day(row: asyncpg.Record) -> DayRecord:
    journal = row["journal"]
    return DayRecord(
        store_id=row["store_id"],
        business_date=row["business_date"],
        state=_state(row),
        totals=json.loads(row["totals"]),
        journal=Journal.model_validate_json(journal) if journal else None,
        trigger=row["trigger"],
        closed_at=row["closed_at"],
        updated_at=row["updated_at"],
    )
