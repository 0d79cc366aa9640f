"""SQL of reconnect tokens and store moves. Functions take a connection so callers own
the transaction."""

from datetime import datetime

import asyncpg

from services.auth.domain.records import PreviousConnection, StoreMove


async def issue_reconnect_token(
    conn: asyncpg.Connection, token_hash: bytes, store_id: str, expires_at: datetime
) -> None:
    """Stores a new token's hash; earlier unused tokens of the store stop working."""
    await conn.execute(
        "UPDATE reconnect_tokens SET used_at = now() WHERE store_id = $1 AND used_at IS NULL",
        store_id,
    )
    await conn.execute(
        "INSERT INTO reconnect_tokens (token_hash, store_id, expires_at) VALUES ($1, $2, $3)",
        token_hash,
        store_id,
        expires_at,
    )


async def use_reconnect_token(
    conn: asyncpg.Connection, token_hash: bytes, store_id: str, now: datetime
) -> bool:
    """Spends the token once: True when it was this store's, unused and unexpired."""
    used = await conn.fetchval(
        "UPDATE reconnect_tokens SET used_at = $3 WHERE token_hash = $1 AND store_id = $2"
        " AND used_at IS NULL AND expires_at > $3 RETURNING 1",
        token_hash,
        store_id,
        now,
    )
    return used is not None


async def latest_connection_for_store(
    conn: asyncpg.Connection, store_id: str
) -> PreviousConnection | None:
    """The store's most recent connection, live or ended: the organisation it posted to."""
    row = await conn.fetchrow(
        "SELECT id, tenant_id, tenant_name FROM connections WHERE store_id = $1"
        " ORDER BY created_at DESC LIMIT 1",
        store_id,
    )
    return None if row is None else PreviousConnection(row["id"], row["tenant_id"],
                                                       row["tenant_name"])


async def record_move(conn: asyncpg.Connection, move: StoreMove) -> None:
    await conn.execute(
        "INSERT INTO store_moves (store_id, from_tenant_id, from_tenant_name, to_tenant_id,"
        " to_tenant_name, from_connection_id, to_connection_id, proof)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        move.store_id,
        move.from_tenant_id,
        move.from_tenant_name,
        move.to_tenant_id,
        move.to_tenant_name,
        move.from_connection_id,
        move.to_connection_id,
        move.proof,
    )


async def recent_moves(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT store_id, from_tenant_id, from_tenant_name, to_tenant_id, to_tenant_name,"
        " proof, confirmed_at FROM store_moves ORDER BY confirmed_at DESC LIMIT $1",
        limit,
    )
    return rows


async def pending_attempts(conn: asyncpg.Connection, store_id: str | None,
                           now: datetime) -> int:
    """Unexpired, unused connect attempts of a store (None: of every store)."""
    count: int = await conn.fetchval(
        "SELECT count(*) FROM connect_attempts WHERE ($1::text IS NULL OR store_id = $1)"
        " AND used_at IS NULL AND expires_at > $2",
        store_id,
        now,
    )
    return count
