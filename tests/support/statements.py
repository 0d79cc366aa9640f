"""A pool that notes each statement it sends: for tests of how many round trips a path
takes (a group written as one statement, a look-up skipped)."""

from typing import Any

import asyncpg

from shared.db import NoResetConnection


async def noting_pool(database_url: str, schema: str, sent: list[str]) -> asyncpg.Pool:
    """A pool on `schema` that notes each statement it sends in `sent`."""

    def note(record: Any) -> None:
        # asyncpg's own look-up of a statement's types, once per statement and connection.
        if "'jit'" not in record.query and "typeinfo_tree" not in record.query:
            sent.append(record.query)

    async def log_queries(connection: asyncpg.Connection) -> None:
        connection.add_query_logger(note)

    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2, init=log_queries,
                                     server_settings={"search_path": schema},
                                     connection_class=NoResetConnection)
    assert pool is not None
    return pool
