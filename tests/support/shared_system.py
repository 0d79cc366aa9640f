"""One whole system (sandbox, auth, totals, posting as real processes) shared by a test
module, so a module pays the start-up once; plus the small helpers its tests share."""

import asyncio
import base64
import contextlib
import os
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import asyncpg
import httpx

from glbridge.connect import connect_store
from glbridge.processes import free_port
from glbridge.system import Credentials, Ports, System
from shared.contracts import examples
from shared.db import drop_database, ensure_database
from shared.messaging import topology as topo

CREDENTIALS = Credentials.named("badinput-credential")


@dataclass
class Shared:
    """A running system and what a test needs to reach it."""

    system: System
    database_url: str
    amqp_url: str
    namespace: str
    log_dir: Path
    encryption_keys: str

    def internal_headers(self, who: str) -> dict[str, str]:
        """The credential of `who` (totals, posting or ops) as an Authorization header."""
        return CREDENTIALS.bearer(who)

    def auth_internal_headers(self, path: str) -> dict[str, str]:
        """The caller auth admits on `path`: posting for access tokens, else totals."""
        return self.internal_headers("posting" if "access-token" in path else "totals")

    def logs(self) -> dict[str, str]:
        """Every process's captured log, by file name."""
        return {p.name: p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log"))}

    async def db(self, schema: str) -> asyncpg.Connection:
        return await asyncpg.connect(self.database_url, server_settings={"search_path": schema})

    async def connections(self, store: str) -> int:
        """How many connections auth ever made for `store` (live or ended)."""
        conn = await self.db("auth")
        try:
            return int(await conn.fetchval(
                "SELECT count(*) FROM connections WHERE store_id = $1", store))
        finally:
            await conn.close()


@contextlib.contextmanager
def shared_system(
    postgres_url: str, amqp_url: str, log_dir: Path, extra_env: Mapping[str, str] | None = None
) -> Iterator[Shared]:
    """Starts the four processes on a database and broker namespace of their own; stops
    them and removes both afterwards."""
    unique = uuid.uuid4().hex[:10]
    dsn = urlunsplit(urlsplit(postgres_url)._replace(path=f"/glbridge_test_{unique}"))
    namespace = f"test-{unique}"
    keys = "t1:" + base64.b64encode(os.urandom(32)).decode()
    asyncio.run(ensure_database(dsn))
    running = System(
        ports=Ports(auth=free_port(), totals=free_port(), posting=free_port(), sandbox=free_port()),
        database_url=dsn,
        amqp_url=amqp_url,
        namespace=namespace,
        credentials=CREDENTIALS,
        sandbox_control=True,
        # The fuzzers and attack tests fail credentials by the hundred from one address;
        # tests/security/test_throttle.py checks the throttle on a system of its own.
        extra_env={"AUTH_ENCRYPTION_KEYS": keys, "THROTTLE_FAILURES": "100000",
                   **(extra_env or {})},
        log_dir=log_dir,
    )
    try:
        running.start()
        yield Shared(running, dsn, amqp_url, namespace, log_dir, keys)
    finally:
        running.stop()
        asyncio.run(_clean_up(dsn, amqp_url, namespace))


async def _clean_up(dsn: str, amqp_url: str, namespace: str) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        await topo.delete(channel, topo.topology(namespace))
    await drop_database(dsn)


async def connected_store(client: httpx.AsyncClient, shared: Shared, store_id: str) -> str:
    """Connects `store_id` through the browser flow and saves the example setup: its key."""
    api_key = await connect_store(client, shared.system.auth_url, store_id)
    setup = await client.put(
        f"{shared.system.totals_url}/v1/stores/{store_id}/setup",
        json=examples.example_setup(api_key),
    )
    assert setup.status_code == 200, setup.text
    return api_key


async def table_counts(conn: asyncpg.Connection, tables: list[str]) -> dict[str, int]:
    return {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in tables}
