"""PostgreSQL storage of setups and days, inside a unit of work: each write runs in the
unit's transaction, with a NOTIFY that PostgreSQL delivers at COMMIT to every replica's
listener (waiting POS requests re-read the day then)."""

import json
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.totals.domain.day import DayState, DayStatus
from services.totals.domain.records import DayRecord, KeyRecord, SetupRecord
from services.totals.domain.setup import StoreSetup
from services.totals.service_layer.unit_of_work import (
    ConcurrentClose,
    DayKey,
    KeyInUse,
    MissingKey,
)
from shared.contracts.events import Journal, Trigger
from shared.unit_of_work import PostgresUnitOfWork

# A day's change is notified on DAYS_CHANNEL only while someone waits on its store
# (`store_watched`, migration 006; services/totals/adapters/notifier.py says why).
DAYS_CHANNEL = "totals_days"
SETUPS_CHANNEL = "totals_setups"


class PgSetupRepository:
    def __init__(self, uow: PostgresUnitOfWork) -> None:
        self.uow = uow

    async def get(self, store_id: str) -> SetupRecord | None:
        row = await self.uow.conn.fetchrow("SELECT * FROM setups WHERE store_id = $1", store_id)
        return _setup(row) if row else None

    async def store_for_key(self, api_key_hash: str) -> str | None:
        value: str | None = await self.uow.conn.fetchval(
            "SELECT store_id FROM setups WHERE api_key_hash = $1", api_key_hash
        )
        return value

    async def save(self, store_id: str, setup: StoreSetup, key: KeyRecord | None
                   ) -> SetupRecord:
        body = setup.model_dump_json()
        conn = await self.uow.writer()
        if key is None:
            row = await conn.fetchrow(
                "UPDATE setups SET setup = $2::jsonb, updated_at = now()"
                " WHERE store_id = $1 RETURNING *", store_id, body)
            if row is None:
                raise MissingKey(store_id)
        else:
            row = await _upsert_with_key(conn, store_id, key, body)
        await conn.execute("SELECT pg_notify($1, $2)", SETUPS_CHANNEL, store_id)
        return _setup(row)

    async def mark_connection(self, connection_id: UUID, status: str) -> list[SetupRecord]:
        conn = await self.uow.writer()
        # By connection only: a store that already moved to a new connection (a new
        # key) is not touched by news about its old one.
        rows = await conn.fetch(
            "UPDATE setups SET connection_status = $2, updated_at = now()"
            " WHERE connection_id = $1 RETURNING *", connection_id, status)
        records = [_setup(row) for row in rows]
        for record in records:
            await conn.execute("SELECT pg_notify($1, $2)", SETUPS_CHANNEL, record.store_id)
        return records


async def _upsert_with_key(conn: asyncpg.Connection, store_id: str, key: KeyRecord,
                           body: str) -> asyncpg.Record:
    # A key moving from another store's setup would fail the UNIQUE hash: the caller
    # verified with auth that the key belongs to this store.
    try:
        row: asyncpg.Record = await conn.fetchrow(
            "INSERT INTO setups (store_id, api_key_hash, connection_id, tenant_id,"
            " tenant_name, connection_status, setup) VALUES ($1,$2,$3,$4,$5,$6,$7::jsonb)"
            " ON CONFLICT (store_id) DO UPDATE SET api_key_hash = EXCLUDED.api_key_hash,"
            " connection_id = EXCLUDED.connection_id, tenant_id = EXCLUDED.tenant_id,"
            " tenant_name = EXCLUDED.tenant_name,"
            " connection_status = EXCLUDED.connection_status,"
            " setup = EXCLUDED.setup, updated_at = now() RETURNING *",
            store_id, key.api_key_hash, key.connection_id, key.tenant_id,
            key.tenant_name, key.connection_status, body)
    except asyncpg.UniqueViolationError:
        raise KeyInUse(store_id) from None
    return row


class PgDayRepository:
    def __init__(self, uow: PostgresUnitOfWork) -> None:
        self.uow = uow

    async def get(self, store_id: str, business_date: date) -> DayRecord | None:
        row = await self.uow.conn.fetchrow(
            "SELECT * FROM days WHERE store_id = $1 AND business_date = $2",
            store_id, business_date)
        return _day(row) if row else None

    async def get_for_update(self, store_id: str, business_date: date) -> DayRecord | None:
        conn = await self.uow.writer()
        row = await conn.fetchrow(
            "SELECT * FROM days WHERE store_id = $1 AND business_date = $2"
            " FOR UPDATE", store_id, business_date)
        return _day(row) if row else None

    async def waiting_for_new_key(self, store_id: str) -> list[DayRecord]:
        conn = await self.uow.writer()
        rows = await conn.fetch(
            "SELECT * FROM days WHERE store_id = $1"
            " AND status = 'waiting-for-new-key' FOR UPDATE", store_id)
        return [_day(row) for row in rows]

    async def hold_pending(self, store_ids: list[str]) -> list[DayRecord]:
        conn = await self.uow.writer()
        rows = await conn.fetch(
            "UPDATE days SET status = 'waiting-for-new-key', updated_at = now()"
            " WHERE store_id = ANY($1::text[]) AND status = 'pending' RETURNING *", store_ids)
        days = [_day(row) for row in rows]
        for day in days:
            await _notify_day(conn, day.store_id, day.business_date)
        return days

    async def states_of(self, keys: list[DayKey]) -> dict[DayKey, tuple[DayState, str]]:
        rows = await self.uow.conn.fetch(STATES_OF_DAYS, [store for store, _ in keys],
                                         [day for _, day in keys])
        return {(r["store_id"], r["business_date"]): (_state(r), r["version"]) for r in rows}

    async def write_states(
        self, states: dict[DayKey, DayState], versions: dict[DayKey, str]
    ) -> set[DayKey]:
        """Writes each day whose row version is still `versions`' (its xmin: any write of
        the row changes it); the days written, with their NOTIFYs, in one statement."""
        items = list(states.items())
        rows = await self.uow.conn.fetch(
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
                   CASE WHEN store_watched(store_id) THEN
                       pg_notify($10, json_build_array(store_id, business_date)::text) END
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

    async def write_revision(
        self, store_id: str, business_date: date, state: DayState, totals: dict[str, Any],
        journal: Journal | None, trigger: Trigger, insert: bool,
    ) -> datetime:
        conn = await self.uow.writer()
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
            " ON CONFLICT DO NOTHING) SELECT pg_notify($6, $7) WHERE store_watched($1)",
            store_id, business_date, state.revision, totals_json, journal_json, DAYS_CHANNEL,
            _day_payload(store_id, business_date))
        stamp_at: datetime = stamp
        return stamp_at

    async def write_state(
        self, store_id: str, business_date: date, state: DayState,
        trigger: Trigger | None = None,
    ) -> None:
        conn = await self.uow.writer()
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


def _day_payload(store_id: str, business_date: date) -> str:
    return json.dumps([store_id, business_date.isoformat()])


async def _notify_day(conn: asyncpg.Connection, store_id: str, business_date: date) -> None:
    # Delivered at commit, to every replica's listener: waiters re-read the day then.
    await conn.execute("SELECT pg_notify($1, $2) WHERE store_watched($3)", DAYS_CHANNEL,
                       _day_payload(store_id, business_date), store_id)



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

