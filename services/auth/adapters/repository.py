"""SQL of the auth schema. Functions take a connection so callers own the transaction,
and answer with `domain/records.py`'s records."""

import dataclasses
import json
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.auth.domain.connect import Tenant
from services.auth.domain.records import (
    AttemptRecord,
    ConnectionRecord,
    NewAttempt,
    NewConnection,
    ParkedPick,
    TakenPick,
)
from services.auth.service_layer.unit_of_work import Rotation

_CONNECTION_FIELDS = [f.name for f in dataclasses.fields(ConnectionRecord)]
_ATTEMPT_FIELDS = [f.name for f in dataclasses.fields(AttemptRecord)]


def connection_record(row: asyncpg.Record) -> ConnectionRecord:
    values = {name: row[name] for name in _CONNECTION_FIELDS}
    return ConnectionRecord(**values | {"key_hash": bytes(row["key_hash"])})


def attempt_record(row: asyncpg.Record) -> AttemptRecord:
    values = {name: row[name] for name in _ATTEMPT_FIELDS}
    return AttemptRecord(**values | {"browser_hash": _bytes(row["browser_hash"]),
                                     "pending_tenants": tuple(tenants_of(row["pending_tenants"]))})


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


async def connection(conn: asyncpg.Connection, connection_id: UUID) -> ConnectionRecord | None:
    row = await conn.fetchrow("SELECT * FROM connections WHERE id = $1", connection_id)
    return None if row is None else connection_record(row)


async def live_connection_for_store(conn: asyncpg.Connection, store_id: str
                                    ) -> ConnectionRecord | None:
    row = await conn.fetchrow(
        "SELECT * FROM connections WHERE store_id = $1 AND status IN ('active', 'needs-reauth')"
        " FOR UPDATE",
        store_id,
    )
    return None if row is None else connection_record(row)


async def live_connection_id(conn: asyncpg.Connection, store_id: str) -> UUID | None:
    live: UUID | None = await conn.fetchval(
        "SELECT id FROM connections WHERE store_id = $1"
        " AND status IN ('active', 'needs-reauth')", store_id)
    return live


async def insert_connection(conn: asyncpg.Connection, new: NewConnection) -> None:
    await conn.execute(
        "INSERT INTO connections (id, store_id, tenant_id, tenant_name, xero_connection_id,"
        " auth_event_id, scope, key_hash, access_token_sealed, access_expires_at,"
        " refresh_token_sealed, xero_user_id, replaces)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        new.id,
        new.store_id,
        UUID(new.tenant.tenant_id),
        new.tenant.tenant_name,
        new.tenant.xero_connection_id or None,
        new.auth_event_id,
        new.scope,
        new.key_hash,
        new.access_token_sealed,
        new.access_expires_at,
        new.refresh_token_sealed,
        new.xero_user_id,
        new.replaces,
    )


async def stores_sharing_xero_user(conn: asyncpg.Connection, row: ConnectionRecord
                                   ) -> list[str]:
    """Other live connections authorised by the same Xero user as `row`."""
    return await _other_live_stores(conn, row, "xero_user_id")


async def stores_sharing_xero_connection(conn: asyncpg.Connection, row: ConnectionRecord
                                         ) -> list[str]:
    """Other live stores on the very same Xero connection as `row` (same user, same
    organisation, same app: Xero keeps one connection for them)."""
    return await _other_live_stores(conn, row, "xero_connection_id")


async def _other_live_stores(conn: asyncpg.Connection, row: ConnectionRecord,
                             column: str) -> list[str]:
    value = {"xero_user_id": row.xero_user_id,
             "xero_connection_id": row.xero_connection_id}.get(column)
    if not value:
        return []
    rows = await conn.fetch(
        f"SELECT store_id FROM connections WHERE {column} = $1 AND id <> $2"  # noqa: S608
        " AND status IN ('active', 'needs-reauth') ORDER BY store_id",
        value,
        row.id,
    )
    return [r["store_id"] for r in rows]


async def end_connection(conn: asyncpg.Connection, connection_id: UUID, status: str) -> None:
    """Retires or disconnects a connection: its tokens are deleted, its key stops working."""
    await conn.execute(
        "UPDATE connections SET status = $2, ended_at = now(), updated_at = now(),"
        " access_token_sealed = NULL, access_expires_at = NULL, refresh_token_sealed = NULL,"
        " previous_refresh_token_sealed = NULL WHERE id = $1",
        connection_id,
        status,
    )


async def mark_refresh_sent(conn: asyncpg.Connection, connection_id: UUID, at: datetime) -> None:
    await conn.execute(
        "UPDATE connections SET refresh_first_used_at = $2 WHERE id = $1"
        " AND refresh_first_used_at IS NULL",
        connection_id,
        at,
    )


async def store_rotation(conn: asyncpg.Connection, connection_id: UUID, r: Rotation) -> None:
    await conn.execute(
        "UPDATE connections SET access_token_sealed = $2, access_expires_at = $3,"
        " refresh_token_sealed = $4, refresh_first_used_at = NULL,"
        " previous_refresh_token_sealed = $5, previous_first_used_at = $6,"
        " scope = CASE WHEN $7 = '' THEN scope ELSE $7 END, last_refreshed_at = $8,"
        " refresh_count = refresh_count + 1, refresh_failures = 0, refresh_not_before = NULL,"
        " last_refresh_error = NULL, updated_at = now() WHERE id = $1",
        connection_id,
        r.access_token_sealed,
        r.access_expires_at,
        r.refresh_token_sealed,
        r.previous_refresh_token_sealed,
        r.previous_first_used_at,
        r.scope,
        r.at,
    )


async def record_failure(
    conn: asyncpg.Connection, connection_id: UUID, error: str, not_before: datetime
) -> None:
    await conn.execute(
        "UPDATE connections SET refresh_failures = refresh_failures + 1,"
        " refresh_not_before = $3, last_refresh_error = $2, updated_at = now() WHERE id = $1",
        connection_id,
        error[:500],
        not_before,
    )


async def mark_needs_reauth(
    conn: asyncpg.Connection, connection_id: UUID, reason: str
) -> tuple[str, UUID] | None:
    """Moves an active connection to needs-reauth; its store and tenant, or None when it
    was not active (so the event is published once however many callers saw the
    refusal)."""
    row = await conn.fetchrow(
        "UPDATE connections SET status = 'needs-reauth', reauth_reason = $2,"
        " access_token_sealed = NULL, access_expires_at = NULL, refresh_token_sealed = NULL,"
        " previous_refresh_token_sealed = NULL, updated_at = now()"
        " WHERE id = $1 AND status = 'active' RETURNING store_id, tenant_id",
        connection_id,
        reason[:500],
    )
    return None if row is None else (row["store_id"], row["tenant_id"])


async def reseal(conn: asyncpg.Connection, connection_id: UUID, sealed: dict[str, str]) -> None:
    """Replaces sealed columns (keys: access_token, refresh_token, previous_refresh_token)."""
    allowed = {"access_token", "refresh_token", "previous_refresh_token"}
    columns = [column for column in sealed if column in allowed]
    assignments = ", ".join(f"{column}_sealed = ${i + 2}" for i, column in enumerate(columns))
    await conn.execute(
        f"UPDATE connections SET {assignments} WHERE id = $1",  # noqa: S608 (fixed names)
        connection_id,
        *(sealed[column] for column in columns),
    )


async def sealed_under_other_keys(conn: asyncpg.Connection, key_id: str, limit: int) -> list[UUID]:
    rows = await conn.fetch(
        "SELECT id FROM connections WHERE refresh_token_sealed IS NOT NULL"
        " AND split_part(refresh_token_sealed, '.', 1) <> $1 LIMIT $2",
        key_id,
        limit,
    )
    return [row["id"] for row in rows]


async def due_for_keepalive(conn: asyncpg.Connection, before: datetime, limit: int) -> list[UUID]:
    rows = await conn.fetch(
        "SELECT id FROM connections WHERE status = 'active' AND last_refreshed_at < $1"
        " AND (refresh_not_before IS NULL OR refresh_not_before <= now())"
        " ORDER BY last_refreshed_at LIMIT $2",
        before,
        limit,
    )
    return [row["id"] for row in rows]


# --- connect attempts ---


async def insert_attempt(conn: asyncpg.Connection, a: NewAttempt) -> None:
    await conn.execute(
        "INSERT INTO connect_attempts (id, state, store_id, scenario, code_verifier_sealed,"
        " expires_at, proof, proved_connection_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        a.id,
        a.state,
        a.store_id,
        a.scenario,
        a.code_verifier_sealed,
        a.expires_at,
        a.proof,
        a.proved_connection_id,
    )


async def attempt_by_id(conn: asyncpg.Connection, attempt_id: str) -> AttemptRecord | None:
    row = await conn.fetchrow("SELECT * FROM connect_attempts WHERE id = $1", attempt_id)
    return None if row is None else attempt_record(row)


async def attempt_by_state(conn: asyncpg.Connection, state: str) -> AttemptRecord | None:
    row = await conn.fetchrow("SELECT * FROM connect_attempts WHERE state = $1", state)
    return None if row is None else attempt_record(row)


async def bind_browser(conn: asyncpg.Connection, attempt_id: str, browser_hash: bytes) -> bool:
    """Binds the attempt to the browser, or checks it is the one bound first."""
    bound = await conn.fetchval(
        "UPDATE connect_attempts SET browser_hash = coalesce(browser_hash, $2) WHERE id = $1"
        " RETURNING browser_hash = $2",
        attempt_id,
        browser_hash,
    )
    return bool(bound)


async def consume_state(conn: asyncpg.Connection, state: str, now: datetime
                        ) -> AttemptRecord | None:
    """Marks the state used, atomically: of two callbacks with one state, one wins."""
    row = await conn.fetchrow(
        "UPDATE connect_attempts SET used_at = $2 WHERE state = $1 AND used_at IS NULL"
        " AND expires_at > $2 RETURNING *",
        state,
        now,
    )
    return None if row is None else attempt_record(row)


async def set_outcome(conn: asyncpg.Connection, attempt_id: str, outcome: str) -> None:
    await conn.execute(
        "UPDATE connect_attempts SET outcome = $2 WHERE id = $1", attempt_id, outcome[:200]
    )


async def park_for_pick(
    conn: asyncpg.Connection,
    attempt_id: str,
    pick_id: str,
    tokens_sealed: str,
    tenants: list[Tenant],
    expires_at: datetime,
) -> None:
    await conn.execute(
        "UPDATE connect_attempts SET pick_id = $2, pending_tokens_sealed = $3,"
        " pending_tenants = $4::jsonb, pick_expires_at = $5, outcome = 'picking' WHERE id = $1",
        attempt_id,
        pick_id,
        tokens_sealed,
        json.dumps([t.__dict__ for t in tenants]),
        expires_at,
    )


async def parked_pick(conn: asyncpg.Connection, pick_id: str, now: datetime
                      ) -> ParkedPick | None:
    row = await conn.fetchrow(
        "SELECT id, store_id, proved_connection_id, browser_hash, pending_tenants"
        " FROM connect_attempts"
        " WHERE pick_id = $1 AND pick_expires_at > $2",
        pick_id,
        now,
    )
    if row is None:
        return None
    return ParkedPick(row["id"], row["store_id"], row["proved_connection_id"],
                      _bytes(row["browser_hash"]), tuple(tenants_of(row["pending_tenants"])))


async def take_pick(conn: asyncpg.Connection, pick_id: str, now: datetime) -> TakenPick | None:
    """Takes the parked tokens once: the pick form cannot be submitted twice."""
    row = await conn.fetchrow(
        "UPDATE connect_attempts a SET pick_id = NULL, pending_tokens_sealed = NULL,"
        " outcome = 'picked' FROM (SELECT id, pending_tokens_sealed FROM connect_attempts"
        " WHERE pick_id = $1 AND pick_expires_at > $2 FOR UPDATE) old WHERE a.id = old.id"
        " RETURNING a.id, a.store_id, a.scenario, a.browser_hash, a.pending_tenants,"
        " a.proof, a.proved_connection_id, old.pending_tokens_sealed",
        pick_id,
        now,
    )
    if row is None:
        return None
    return TakenPick(row["id"], row["store_id"], row["scenario"], row["proof"],
                     row["proved_connection_id"], row["pending_tokens_sealed"])


def tenants_of(value: Any) -> list[Tenant]:
    data = json.loads(value) if isinstance(value, str) else value
    return [Tenant(**item) for item in data or []]


async def forget_old_attempts(conn: asyncpg.Connection, before: datetime) -> int:
    """Connect attempts are only evidence once expired: keep a day of them, not more."""
    result: str = await conn.execute("DELETE FROM connect_attempts WHERE expires_at < $1", before)
    return int(result.split()[-1])
