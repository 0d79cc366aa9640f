"""Server CPU per call of `store_watched` as a SQL function (totals' migration 006) and as
PL/pgSQL (007), on one connection, in temporary objects of their own:

    .venv/bin/python -m bench.function_plans [postgres-url]

A SQL function whose body cannot be inlined (an EXISTS subquery) is planned again at each
statement that calls it; PL/pgSQL keeps its plan for the session. The backend's CPU is
read from /proc, so the server must run on the same machine (Linux).
"""

import asyncio
import sys
import time
from pathlib import Path

import asyncpg

CALLS = 5000
BODY = ("EXISTS (SELECT 1 FROM pg_temp.watched w WHERE w.store_id = store"
        " AND w.until > now())")
FUNCTIONS = {
    "sql": f"CREATE FUNCTION pg_temp.watched_sql(store text) RETURNS boolean LANGUAGE sql"
           f" STABLE AS $$ SELECT {BODY} $$",
    "plpgsql": f"CREATE FUNCTION pg_temp.watched_plpgsql(store text) RETURNS boolean"
               f" LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN {BODY}; END $$",
}


def _backend_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks


async def _per_call_us(connection: asyncpg.Connection, name: str) -> float:
    query = f"SELECT CASE WHEN pg_temp.watched_{name}($1) THEN 1 END"
    for i in range(200):  # past the plan cache's first custom plans
        await connection.fetchval(query, f"store-{i}")
    pid = connection.get_server_pid()
    before = _backend_cpu_s(pid)
    for i in range(CALLS):
        await connection.fetchval(query, f"store-{i % 2000}")
    return (_backend_cpu_s(pid) - before) / CALLS * 1e6


async def main(database_url: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("CREATE TEMP TABLE watched (store_id text PRIMARY KEY,"
                                 " until timestamptz NOT NULL)")
        await connection.execute("INSERT INTO pg_temp.watched SELECT 'store-' || g,"
                                 " now() + interval '1 hour' FROM generate_series(1, 1000) g")
        for ddl in FUNCTIONS.values():
            await connection.execute(ddl)
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        for round_ in (1, 2):
            for name in FUNCTIONS:
                cost = await _per_call_us(connection, name)
                print(f"{started} round {round_}: {name:8} {cost:5.1f} µs of server CPU"
                      f" per call ({CALLS} calls)")
    finally:
        await connection.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1
                     else "postgresql://postgres@127.0.0.1:5432/postgres"))
