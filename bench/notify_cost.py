"""What a NOTIFY adds to a one-row transaction: commits per second and PostgreSQL's CPU
per transaction, with no NOTIFY, and with one and with three listeners (one per replica
of totals). PostgreSQL serialises the commits of notifying transactions (async.c's
`PreCommit_Notify` takes a database-wide lock held until the commit is done).

    .venv/bin/python -m bench.notify_cost [postgres-url]

PostgreSQL's CPU is read from its local processes: run it beside the server.
"""

import asyncio
import sys
import time

import asyncpg
import psutil

CHANNEL = "bench_notify_cost"
CREATE = "CREATE TABLE IF NOT EXISTS bench_notify_cost (id serial PRIMARY KEY, v text)"
INSERT = "INSERT INTO bench_notify_cost (v) VALUES ($1)"
INSERT_AND_NOTIFY = ("WITH row AS (INSERT INTO bench_notify_cost (v) VALUES ($1) RETURNING id)"
                     " SELECT pg_notify('bench_notify_cost', $1) FROM row")


def postgres_cpu_s() -> float:
    total = 0.0
    for process in psutil.process_iter(["name", "cpu_times"]):
        name, times = process.info["name"], process.info["cpu_times"]
        if name and name.startswith("postgres") and times is not None:
            total += times.user + times.system
    return total


async def measure(dsn: str, notify: bool, listeners: int, transactions: int = 2000,
                  concurrency: int = 8) -> str:
    heard = 0

    def on_notify(*_: object) -> None:
        nonlocal heard
        heard += 1

    listening = [await asyncpg.connect(dsn) for _ in range(listeners)]
    for connection in listening:
        await connection.add_listener(CHANNEL, on_notify)
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    statement = INSERT_AND_NOTIFY if notify else INSERT
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        async with gate:
            await pool.execute(statement, f'["store-{n}", "2026-01-01"]')

    cpu_before, started = postgres_cpu_s(), time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(transactions)))
    elapsed = time.perf_counter() - started
    await asyncio.sleep(0.3)  # the listeners' last notifications
    cpu_ms = (postgres_cpu_s() - cpu_before) * 1000 / transactions
    for connection in listening:
        await connection.close()
    await pool.close()
    return (f"NOTIFY {'yes' if notify else 'no '}, {listeners} listening:"
            f" {transactions / elapsed:6.0f} commits/s, PostgreSQL {cpu_ms:.3f} CPU ms"
            f" per transaction, {heard} notifications heard")


async def main(dsn: str) -> None:
    setup = await asyncpg.connect(dsn)
    await setup.execute(CREATE)
    try:
        for _ in range(2):  # twice, alternated: the machine's speed drifts
            for notify, listeners in ((False, 0), (True, 1), (True, 3)):
                print(await measure(dsn, notify, listeners))
    finally:
        await setup.execute("DROP TABLE bench_notify_cost")
        await setup.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1
                     else "postgresql://postgres@127.0.0.1:5432/postgres"))
