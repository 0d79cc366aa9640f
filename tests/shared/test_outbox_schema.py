"""Each service's migrations write its own outbox table in plain SQL (a schema per
service); the relay in shared/outbox.py reads them all the same way. This keeps every
copy identical to `OUTBOX_TABLE_SQL`: columns, types, nullability, defaults, compression,
indexes."""

from pathlib import Path

import asyncpg
import pytest

from shared.db import apply_migrations
from shared.outbox import OUTBOX_TABLE_SQL

SERVICES = Path(__file__).parents[2] / "services"


async def _shape(conn: asyncpg.Connection, schema: str) -> tuple[list[tuple[str, ...]], list[str]]:
    # attcompression: a column's TOAST compression ('' for the server's default).
    columns = await conn.fetch(
        "SELECT column_name, data_type, is_nullable, coalesce(column_default, ''),"
        " a.attcompression::text"
        " FROM information_schema.columns c JOIN pg_attribute a"
        "  ON a.attrelid = format('%I.outbox', $1::text)::regclass AND a.attname = c.column_name"
        " WHERE table_schema = $1 AND table_name = 'outbox'"
        " ORDER BY ordinal_position", schema)
    indexes = await conn.fetch(
        "SELECT replace(indexdef, $1 || '.', 'S.') FROM pg_indexes"
        " WHERE schemaname = $1 AND tablename = 'outbox' ORDER BY indexname", schema)
    shape = [tuple(str(v).replace(f"{schema}.", "S.") for v in row) for row in columns]
    return shape, [row[0] for row in indexes]


@pytest.mark.parametrize("service", ["auth", "totals", "posting"])
async def test_the_outbox_of_each_service_is_the_shared_one(
    database_url: str, service: str
) -> None:
    await apply_migrations(database_url, service, SERVICES / service / "migrations")
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("CREATE SCHEMA reference; SET search_path TO reference")
        await conn.execute(OUTBOX_TABLE_SQL)
        # Off the search path, both are shown schema-qualified (then normalised).
        await conn.execute("SET search_path TO public")
        expected = await _shape(conn, "reference")
        actual = await _shape(conn, service)
    finally:
        await conn.close()
    assert expected[0], "the reference outbox has no columns"
    assert actual == expected
