"""PostgreSQL pools whose connections go back without a reset statement.

asyncpg resets every connection it takes back (`pg_advisory_unlock_all(); CLOSE ALL;
UNLISTEN *; RESET ALL`): one more round trip per statement run on the pool, about a
third of the posting service's statements. Posting leaves no session state behind:
its advisory locks are per transaction, it never LISTENs, declares cursors or SETs on
a pooled connection (the outbox relay listens on its own connection). An open
transaction is still rolled back by asyncpg on release.
"""

from typing import Any

import asyncpg


class _NoResetConnection(asyncpg.Connection):
    def get_reset_query(self) -> str:
        return ""


async def create_pool(
    dsn: str,
    schema: str,
    min_size: int = 1,
    max_size: int = 10,
    server_settings: dict[str, str] | None = None,
) -> asyncpg.Pool:
    """As `shared.db.create_pool` (the service's schema first on `search_path`)."""
    options: dict[str, Any] = {
        "min_size": min_size,
        "max_size": max_size,
        "connection_class": _NoResetConnection,
        "server_settings": {
            "search_path": schema,
            "application_name": f"glbridge-{schema}",
            **(server_settings or {}),
        },
    }
    pool = await asyncpg.create_pool(dsn, **options)
    assert pool is not None
    return pool
