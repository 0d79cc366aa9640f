"""PostgreSQL's CPU for one first close (the day, its revision and its event in one
statement), through totals' own service layer and unit of work, on a scratch database.

    .venv/bin/python -m bench.close_sql                      # the schema as migrated
    .venv/bin/python -m bench.close_sql --compression pglz   # its documents with pglz
    options: --closes N (3,000)

Prints the wall time per close, the CPU of the PostgreSQL backend that ran them
(read from /proc through psutil), and the client's own CPU, per close.
"""

import argparse
import asyncio
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import psutil
from pydantic import SecretStr

from services.totals.adapters.auth_client import AuthClient
from services.totals.adapters.first_closes import PgFirstCloses
from services.totals.adapters.unit_of_work import unit_of_work
from services.totals.domain import examples as totals_examples
from services.totals.domain.journal import build_day
from services.totals.domain.records import ACTIVE, KeyRecord, SetupRecord
from services.totals.service_layer.days import TotalsService
from shared.contracts.events import Trigger
from shared.db import apply_migrations, create_pool, drop_database, ensure_database

MIGRATIONS = Path(__file__).parents[1] / "services" / "totals" / "migrations"
DOCUMENTS = {"days": ("totals", "journal"), "day_revisions": ("totals", "journal"),
             "outbox": ("body",)}


async def measure(postgres_url: str, closes: int, compression: str | None) -> None:
    dsn = f"{postgres_url.rsplit('/', 1)[0]}/glbridge_close_sql_{uuid.uuid4().hex[:6]}"
    await ensure_database(dsn)
    try:
        await apply_migrations(dsn, "totals", MIGRATIONS)
        pool = await create_pool(dsn, "totals", min_size=1, max_size=1)
        async with pool:
            if compression:
                for table, columns in DOCUMENTS.items():
                    for column in columns:
                        await pool.execute(f"ALTER TABLE {table} ALTER COLUMN {column}"
                                           f" SET COMPRESSION {compression}")
            await _closes(pool, closes)
    finally:
        await drop_database(dsn)


async def _closes(pool: asyncpg.Pool, closes: int) -> None:
    # Closes only: the auth service is never asked.
    auth = AuthClient("http://127.0.0.1:9", SecretStr("unused"), 1.0)
    first_closes = PgFirstCloses(pool)
    service = TotalsService(unit_of_work(pool), first_closes, auth)
    setups = [SetupRecord(f"{100 + n}", KeyRecord(f"hash{n}", uuid.uuid4(), uuid.uuid4(),
                                                  "Bench Ltd", ACTIVE),
                          totals_examples.example_store_setup(), datetime.now(UTC))
              for n in range(100)]
    totals = totals_examples.example_totals()
    body = totals.model_dump(mode="json")
    built = build_day(setups[0].store_id, setups[0].setup, totals)
    backend = psutil.Process(await pool.fetchval("SELECT pg_backend_pid()"))
    server_before = sum(backend.cpu_times()[:2])
    client_before = time.process_time()
    started = time.perf_counter()
    for n in range(closes):
        setup = setups[n % len(setups)]
        day = date(2026, 1, 1) + timedelta(days=n // len(setups))
        await service.close_built(setup, day, body, built, Trigger.END_OF_DAY)
    elapsed = time.perf_counter() - started
    server = sum(backend.cpu_times()[:2]) - server_before
    client = time.process_time() - client_before
    print(f"{closes} first closes: {elapsed / closes * 1000:.3f} ms each; PostgreSQL backend "
          f"CPU {server / closes * 1000:.3f} ms, client CPU {client / closes * 1000:.3f} ms "
          f"per close")
    await first_closes.stop()
    await auth.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--closes", type=int, default=3000)
    parser.add_argument("--compression", choices=["pglz", "lz4"],
                        help="set the day's documents to this compression first")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    asyncio.run(measure(args.postgres_url, args.closes, args.compression))


if __name__ == "__main__":
    main()
