"""Posting as real processes: the Xero sandbox, auth (for tokens) and one or more posting
processes, on a real PostgreSQL and RabbitMQ. Tests publish `store-totals-closed` on the
broker themselves (a real producer of the contract) and read the outcomes from the
queue totals would consume."""

import asyncio
import base64
import os
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from glbridge.processes import stop_together
from glbridge.system import Credentials
from services.posting.adapters.stores import PostingStores
from services.totals.adapters.ops_reader import OpsReader
from shared.contracts.events import (
    Event,
    GlPostingFailed,
    GlPostingSucceeded,
    Journal,
    JournalLine,
    JournalStatus,
    StoreTotalsClosed,
    Trigger,
    money,
)
from shared.contracts.registry import EventRegistry
from shared.db import apply_migrations, create_pool
from shared.messaging.broker import Broker
from shared.messaging.topology import TOTALS_RESULTS_QUEUE, topology
from tests.support.processes import ServiceProcess, free_port
from tests.support.sandbox import RunningSandbox

CREDENTIALS = Credentials.named("posting-test")
CLIENT_ID = "glbridge-dev"
CLIENT_SECRET = "glbridge-dev-secret"
DAY = date(2026, 11, 24)
Outcome = GlPostingSucceeded | GlPostingFailed
OUTCOMES_IN_THE_OUTBOX = """
SELECT count(*) AS written, count(*) FILTER (WHERE published_at IS NULL) AS unpublished
FROM posting.outbox WHERE event_type IN ('gl-posting-succeeded', 'gl-posting-failed')
"""

# A balanced day on the us-rental chart.
GOOD_LINES: tuple[tuple[str, str, str], ...] = (
    ("Cash", "1210", "250.00"),
    ("Visa", "1230", "120.50"),
    ("Rental", "4000", "-330.50"),
    ("Sales tax", "2210", "-40.00"),
)


@dataclass(frozen=True)
class Store:
    store_id: str
    connection_id: UUID
    tenant_id: UUID
    key: str = ""


def day_event(
    store: Store,
    day: date = DAY,
    revision: int = 1,
    lines: tuple[tuple[str, str, str], ...] = GOOD_LINES,
    tax_types: dict[str, str] | None = None,
    status: JournalStatus = JournalStatus.POSTED,
) -> StoreTotalsClosed:
    reference = f"glb:{store.store_id}:{day.isoformat()}:{revision}"
    return StoreTotalsClosed(
        correlation_id=f"{store.store_id}:{day.isoformat()}",
        store_id=store.store_id,
        business_date=day,
        revision=revision,
        trigger=Trigger.END_OF_DAY if revision == 1 else Trigger.MANUAL_REPRINT,
        connection_id=store.connection_id,
        tenant_id=store.tenant_id,
        journal=Journal(
            narration=f"Store {store.store_id} totals for {day.isoformat()} [{reference}]",
            reference=reference,
            date=day,
            status=status,
            lines=[
                JournalLine(
                    category=category, account_code=code, amount=money(amount),
                    tax_type=(tax_types or {}).get(category),
                )
                for category, code, amount in lines
            ],
        ),
    )


@dataclass
class PostingRig:
    sandbox: RunningSandbox
    database_url: str
    amqp_url: str
    namespace: str
    log_dir: Path
    broker: Broker
    auth_port: int = field(default_factory=free_port)
    auth: ServiceProcess | None = None
    postings: list[ServiceProcess] = field(default_factory=list)
    keys: str = field(default_factory=lambda: "t1:" + base64.b64encode(os.urandom(32)).decode())
    outcomes_taken: int = 0  # outcome events read from the queue, duplicates included

    @property
    def auth_url(self) -> str:
        return f"http://127.0.0.1:{self.auth_port}"

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "DATABASE_URL": self.database_url,
            "AMQP_URL": self.amqp_url,
            "AMQP_NAMESPACE": self.namespace,
            **CREDENTIALS.env(),
            "AUTH_URL": self.auth_url,
            "AUTH_PUBLIC_URL": self.auth_url,
            "AUTH_PORT": str(self.auth_port),
            "AUTH_ENCRYPTION_KEYS": self.keys,
            "XERO_CLIENT_ID": CLIENT_ID,
            "XERO_CLIENT_SECRET": CLIENT_SECRET,
            "XERO_TIMEOUT_S": "5",
            "POSTING_IN_FLIGHT_GRACE_S": "2",
            "POSTING_BACKOFF_BASE_S": "0.2",
            "POSTING_BACKOFF_CAP_S": "2",
            "POSTING_POLL_S": "0.1",
            "POSTING_LEASE_S": "2",
            "DB_POOL_MAX": "10",
            **self.sandbox.xero_env(),
            **extra,
        }

    def start_auth(self) -> ServiceProcess:
        self.auth = ServiceProcess("services.auth", self.auth_port, self.env(), self.log_dir)
        self.auth.start("/readyz", 30)
        return self.auth

    def start_posting(self, **extra: str) -> ServiceProcess:
        port = free_port()
        process = ServiceProcess(
            "services.posting", port, self.env(POSTING_PORT=str(port), **extra), self.log_dir
        )
        process.start("/readyz", 30)
        self.postings.append(process)
        return process

    def stop(self) -> None:
        stop_together([*self.postings, *([self.auth] if self.auth is not None else [])])

    async def connect(
        self, store_id: str, email: str = "demo@example.com", password: str = "demo-password",
        tenant_name: str | None = None,
    ) -> Store:
        return await self._connect(store_id, email, password, tenant_name, None)

    async def move(self, store: Store, email: str, password: str, tenant_name: str) -> Store:
        """Reconnects `store` with its key to the organisation named, the move confirmed."""
        return await self._connect(store.store_id, email, password, tenant_name, store)

    async def _connect(
        self, store_id: str, email: str, password: str, tenant_name: str | None,
        moving: Store | None,
    ) -> Store:
        from tests.support.connect import connect_store

        async with httpx.AsyncClient(timeout=30) as client:
            key = await connect_store(client, self.auth_url, store_id, email, password,
                                      tenant_name, api_key_box=moving.key if moving else "",
                                      confirm_move=moving is not None)
            verified = await client.post(
                f"{self.auth_url}/internal/v1/keys/verify", json={"api_key": key},
                headers=CREDENTIALS.bearer("totals"),
            )
        verified.raise_for_status()
        data = verified.json()
        return Store(store_id, UUID(data["connection_id"]), UUID(data["tenant_id"]), key)

    async def new_org(self, name: str, template: str = "us-rental",
                      email: str = "demo@example.com") -> str:
        response = await self.sandbox.client.post(
            "/_control/organisations", json={"name": name, "template": template, "users": [email]}
        )
        response.raise_for_status()
        return str(response.json()["tenant_id"])

    async def publish(self, *events: StoreTotalsClosed) -> None:
        await asyncio.gather(*(self.broker.publish(event) for event in events))

    async def outcomes(self, count: int, timeout: float = 60.0) -> list[Outcome]:
        """Takes `count` outcome events, then every other outcome posting has written so
        far (auth's connection events on the same queue are left out)."""
        return await self._take_outcomes(lambda events: len(events) >= count, timeout)

    async def outcomes_of_days(self, days: Collection[date], timeout: float = 60.0
                               ) -> list[Outcome]:
        """Takes outcome events until each of `days` has one. Outcomes are published at
        least once (a killed process's unmarked ones are swept again by its successor), so
        counting events could stop before the last days arrive."""
        wanted = set(days)
        return await self._take_outcomes(
            lambda events: wanted <= {e.business_date for e in events}, timeout)

    async def _take_outcomes(self, enough: Callable[[list[Outcome]], bool], timeout: float
                             ) -> list[Outcome]:
        name = self.broker.topology.queue_name(TOTALS_RESULTS_QUEUE)
        channel = await self.broker.connection.channel()
        queue = await channel.get_queue(name)
        registry = EventRegistry()
        events: list[Outcome] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout

        async def take_one() -> bool:
            message = await queue.get(fail=False)
            if message is None:
                return False
            taken = _outcome(registry.parse(message.body))
            events.extend(taken)
            self.outcomes_taken += len(taken)
            await message.ack()
            return True

        while loop.time() < deadline and not enough(events):
            if not await take_one():
                await asyncio.sleep(0.05)
        # Whatever else posting has decided, without waiting for nothing to arrive: every
        # outcome goes out through posting's outbox, so once no outcome there waits to be
        # published, each one written is in the queue (or was taken before).
        written = await self.outcomes_written(loop.time() + 30.0)
        while self.outcomes_taken < written and loop.time() < deadline + 30.0:
            if not await take_one():
                await asyncio.sleep(0.05)
        while await take_one():
            pass
        await channel.close()
        return events

    async def outcomes_written(self, until: float) -> int:
        """The outcome events in posting's outbox once none of them is unpublished (or
        at `until`, loop time, when a killed process left some for a successor)."""
        conn = await asyncpg.connect(self.database_url)
        loop = asyncio.get_running_loop()
        try:
            while True:
                row = await conn.fetchrow(OUTCOMES_IN_THE_OUTBOX)
                if row["unpublished"] == 0 or loop.time() >= until:
                    return int(row["written"])
                await asyncio.sleep(0.02)
        finally:
            await conn.close()

    async def journals(self, tenant_id: UUID | str) -> list[dict[str, Any]]:
        response = await self.sandbox.client.get(
            "/_control/journals", params={"tenant_id": str(tenant_id)}
        )
        response.raise_for_status()
        return list(response.json())

    async def stats(self) -> dict[str, Any]:
        return dict((await self.sandbox.client.get("/_control/stats")).json())

    async def faults(self, **faults: Any) -> None:
        (await self.sandbox.client.put("/_control/faults", json=faults)).raise_for_status()

    def logs(self) -> str:
        return "\n".join(
            p.log_path.read_text()
            for p in [*self.postings, *( [self.auth] if self.auth else [])]
            if p.log_path and p.log_path.exists()
        )


@pytest.fixture
async def rig(
    sandbox: RunningSandbox, database_url: str, amqp_url: str, namespace: str, tmp_path: Path
) -> AsyncIterator[PostingRig]:
    broker = Broker(amqp_url, topology(namespace))
    await broker.connect()
    rig = PostingRig(sandbox, database_url, amqp_url, namespace, tmp_path, broker)
    response = await sandbox.client.put(
        f"/_control/clients/{CLIENT_ID}",
        json={"client_secret": CLIENT_SECRET,
              "redirect_uris": [f"{rig.auth_url}/v1/connect/callback"]},
    )
    response.raise_for_status()
    rig.start_auth()
    try:
        yield rig
    finally:
        rig.stop()
        await broker.close()


async def wait_for_value(database_url: str, query: str, done: Callable[[Any], bool],
                         what: str, timeout: float = 30.0) -> Any:
    """Polls `query` (one value) until `done` holds for it; fails naming `what` if never."""
    conn = await asyncpg.connect(database_url)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            value = await conn.fetchval(query)
            if done(value):
                return value
            await asyncio.sleep(0.02)
        raise AssertionError(f"never happened: {what}")
    finally:
        await conn.close()


def _outcome(event: Event) -> list[Outcome]:
    return [event] if isinstance(event, GlPostingSucceeded | GlPostingFailed) else []


def total(lines: tuple[tuple[str, str, str], ...]) -> Decimal:
    return sum((Decimal(a) for _, _, a in lines if Decimal(a) > 0), Decimal(0))


# Repositories straight on a migrated database, one per pool as replicas would have.
MIGRATIONS = Path(__file__).parents[2] / "services" / "posting" / "migrations"
SCHEMA = "posting"


@pytest.fixture
async def pools(database_url: str) -> AsyncIterator[list[asyncpg.Pool]]:
    await apply_migrations(database_url, SCHEMA, MIGRATIONS)
    made = [await create_pool(database_url, SCHEMA, 1, 4) for _ in range(3)]
    yield made
    for pool in made:
        await pool.close()


@pytest.fixture
async def repos(pools: list[asyncpg.Pool]) -> AsyncIterator[list[PostingStores]]:
    """Repositories per pool, as replicas would have; stopped even when a test fails."""
    made = [PostingStores(pool) for pool in pools]
    yield made
    for repo in made:
        await repo.stop()


async def held_on_the_ops_monitor(rig: PostingRig) -> list[dict[str, Any]]:
    """The days the ops monitor shows as held back by Xero (in doubt, or waiting for
    tomorrow's budget), read as totals' ops reader reads them."""
    pool = await asyncpg.create_pool(rig.database_url, min_size=1, max_size=1)
    reader = OpsReader(pool, rig.amqp_url, topology(rig.namespace))
    try:
        return await reader.held_by_xero()
    finally:
        await reader.close()
        await pool.close()
