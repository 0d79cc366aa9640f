"""The bench's count of PostgreSQL's transactions per day (`bench/hops.py`): every
statement outside a transaction counts, once its backend has reported."""

import asyncpg

from bench.hops import reported_commits


async def test_each_statement_outside_a_transaction_is_counted(database_url: str) -> None:
    before = await reported_commits(database_url)
    conn = await asyncpg.connect(database_url)
    try:
        for _ in range(7):
            await conn.execute("SELECT 1")
        async with conn.transaction():
            await conn.execute("SELECT 1")
            await conn.execute("SELECT 2")
    finally:
        await conn.close()  # a backend reports what it has not yet when it ends
    counted = await reported_commits(database_url) - before
    # 7 statements and 1 transaction, asyncpg's own when it connects (a few), and the
    # connections that read the count.
    assert 8 <= counted <= 14, counted
