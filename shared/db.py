"""PostgreSQL plumbing: the database, per-service schemas, pools and plain-SQL migrations.

Each service owns one schema and keeps its migrations as numbered `.sql` files in its
own `migrations/` folder. SQL is written without a schema prefix: the runner and the
pools set `search_path` to the service's schema.
"""

import logging
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

log = logging.getLogger(__name__)


def _with_database(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{database}"))


def database_name(dsn: str) -> str:
    return urlsplit(dsn).path.lstrip("/") or "postgres"


async def ensure_database(dsn: str) -> None:
    """Creates the database named by the DSN when it does not exist yet."""
    name = database_name(dsn)
    conn = await asyncpg.connect(_with_database(dsn, "postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            except asyncpg.DuplicateDatabaseError:
                pass  # another process won the race
    finally:
        await conn.close()


async def drop_database(dsn: str) -> None:
    conn = await asyncpg.connect(_with_database(dsn, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database_name(dsn)}" WITH (FORCE)')
    finally:
        await conn.close()


class NoResetConnection(asyncpg.Connection):  # type: ignore[misc]  # asyncpg is untyped
    """Goes back to its pool without asyncpg's reset statement (`pg_advisory_unlock_all();
    CLOSE ALL; UNLISTEN *; RESET ALL`), saving a round trip per use. Only for pools whose
    users leave no session state behind: advisory locks per transaction, no LISTEN,
    cursors or SET on pooled connections. An open transaction is still rolled back."""

    def get_reset_query(self) -> str:
        return ""


async def create_pool(
    dsn: str,
    schema: str,
    min_size: int = 1,
    max_size: int = 10,
    server_settings: dict[str, str] | None = None,
    connection_class: type[asyncpg.Connection] = asyncpg.Connection,
) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        connection_class=connection_class,
        server_settings={
            "search_path": schema,
            "application_name": f"glbridge-{schema}",
            **(server_settings or {}),
        },
    )
    assert pool is not None
    return pool


async def apply_migrations(dsn: str, schema: str, migrations: Path) -> list[str]:
    """Applies the folder's `.sql` files not applied yet, in name order; returns them.

    Idempotent and safe to run from several processes at once (an advisory lock).
    """
    scripts = _read_scripts(migrations)
    conn = await asyncpg.connect(dsn)
    applied: list[str] = []
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"migrate:{schema}")
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            await conn.execute(f'SET LOCAL search_path TO "{schema}"')
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
            for name, sql in scripts:
                if name in done:
                    continue
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", name)
                applied.append(name)
    finally:
        await conn.close()
    if applied:
        log.info("applied migrations to %s: %s", schema, ", ".join(applied))
    return applied


def _read_scripts(folder: Path) -> list[tuple[str, str]]:
    return [(path.name, path.read_text()) for path in sorted(folder.glob("*.sql"))]
