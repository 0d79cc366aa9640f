"""The chart of accounts: read ahead when a store connects, so its first day costs one
call; and, once older than its TTL, used at once while it is read again behind."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from services.posting.adapters.chart_store import PostgresChartStore
from services.posting.adapters.charts import ChartCache
from shared.contracts.events import GlPostingSucceeded
from shared.db import apply_migrations, create_pool
from shared.messaging.topology import POSTING_CONNECTIONS_QUEUE
from tests.posting.conftest import PostingRig, day_event

MIGRATIONS = Path(__file__).parents[2] / "services" / "posting" / "migrations"


async def _chart_saved(database_url: str, tenant_id: uuid.UUID, timeout_s: float = 15.0
                       ) -> bool:
    conn = await asyncpg.connect(database_url)
    try:
        for _ in range(int(timeout_s / 0.1)):
            if await conn.fetchval("SELECT count(*) FROM posting.charts WHERE tenant_id = $1",
                                   tenant_id):
                return True
            await asyncio.sleep(0.1)
        return False
    finally:
        await conn.close()


async def test_a_new_connection_has_its_chart_read_before_its_first_day(rig: PostingRig):
    rig.start_posting()
    store = await rig.connect("31")
    assert await _chart_saved(rig.database_url, store.tenant_id), rig.logs()
    tenant = str(store.tenant_id)
    assert (await rig.stats())["requests"][tenant] == 2  # accounts and organisation

    await rig.publish(day_event(store))
    [outcome] = await rig.outcomes(1)
    assert isinstance(outcome, GlPostingSucceeded)
    assert (await rig.stats())["requests"][tenant] == 3  # the journal alone


async def test_a_failed_read_ahead_is_acked_and_the_first_day_reads_the_chart(
        rig: PostingRig):
    store = await rig.connect("32")
    await rig.faults(error_rate=1.0)  # Xero fails while posting reads ahead
    rig.start_posting()
    for _ in range(100):
        if "not read ahead" in rig.logs():
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("posting never tried to read the chart ahead")
    assert not await _chart_saved(rig.database_url, store.tenant_id, timeout_s=0.5)
    channel = await rig.broker.connection.channel()
    topology = rig.broker.topology
    queue_names = [topology.queue_name(POSTING_CONNECTIONS_QUEUE),
                   topology.dead_letter_queue_name(POSTING_CONNECTIONS_QUEUE),
                   *(topology.retry_queue_name(POSTING_CONNECTIONS_QUEUE, delay)
                     for delay in POSTING_CONNECTIONS_QUEUE.retry_delays_s)]
    for name in queue_names:
        queue = await channel.declare_queue(name, passive=True)
        assert queue.declaration_result.message_count == 0, name  # acked: not retried, not dead
    await channel.close()

    await rig.faults()
    await rig.publish(day_event(store))
    [outcome] = await rig.outcomes(1)
    assert isinstance(outcome, GlPostingSucceeded), outcome
    assert await _chart_saved(rig.database_url, store.tenant_id)


class ChartsBehindAGate:
    """Xero's two chart reads as the gateway would return them; the accounts read waits
    for `gate` (open unless closed by the test) and answers `codes`."""

    def __init__(self) -> None:
        self.codes = ["1210"]
        self.gate = asyncio.Event()
        self.gate.set()
        self.reads = 0
        self.organisation_reads = 0

    async def call(self, kind: str, tenant_id: uuid.UUID, connection_id: uuid.UUID,
                   send: Callable[[str], Any]) -> Any:
        if kind == "organisation":
            self.organisation_reads += 1
            return {"Name": "Gated Rentals"}
        self.reads += 1
        await self.gate.wait()
        return [{"Code": code, "Name": code, "Type": "CURRENT"} for code in self.codes], None


@pytest.fixture
async def repo(database_url: str) -> AsyncIterator[PostgresChartStore]:
    await apply_migrations(database_url, "posting", MIGRATIONS)
    pool = await create_pool(database_url, "posting", 1, 4)
    yield PostgresChartStore(pool)
    await pool.close()


async def test_an_old_chart_is_used_at_once_and_read_again_behind(repo: PostgresChartStore):
    xero = ChartsBehindAGate()
    charts = ChartCache(repo, xero, ttl_s=0.2, retry_s=0.0)  # type: ignore[arg-type]
    tenant, connection = uuid.uuid4(), uuid.uuid4()
    try:
        assert set((await charts.get(tenant, connection)).accounts) == {"1210"}
        await asyncio.sleep(0.3)  # past the TTL

        xero.gate.clear()
        xero.codes = ["1210", "4000"]
        old = await asyncio.wait_for(charts.get(tenant, connection), timeout=1)
        assert set(old.accounts) == {"1210"}  # served while Xero has not answered
        for _ in range(50):  # the read behind it starts (and waits at the gate)
            if xero.reads == 2:
                break
            await asyncio.sleep(0.02)
        assert xero.reads == 2

        xero.gate.set()
        for _ in range(50):
            if set((await charts.get(tenant, connection)).accounts) == {"1210", "4000"}:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the chart was not read again behind the old one")

        # After an account error the chart is marked stale: it is read before use.
        await charts.invalidate(tenant)
        xero.gate.clear()
        waiting = asyncio.create_task(charts.get(tenant, connection))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        xero.gate.set()
        assert set((await waiting).accounts) == {"1210", "4000"}
    finally:
        xero.gate.set()
        await charts.stop()


async def test_a_chart_read_again_by_one_replica_is_not_read_again_by_the_next(
        repo: PostgresChartStore):
    xero = ChartsBehindAGate()
    first, second = (ChartCache(repo, xero, ttl_s=1.0, retry_s=0.0)  # type: ignore[arg-type]
                     for _ in range(2))
    tenant, connection = uuid.uuid4(), uuid.uuid4()
    try:
        await first.get(tenant, connection)
        await second.get(tenant, connection)  # from the database
        assert xero.reads == 1
        await asyncio.sleep(1.1)  # both past the TTL

        xero.codes = ["1210", "4000"]
        await _until_codes(first, tenant, connection, {"1210", "4000"})
        assert xero.reads == 2
        await _until_codes(second, tenant, connection, {"1210", "4000"})
        assert xero.reads == 2  # the second found the first's fresh copy
    finally:
        await first.stop()
        await second.stop()


async def _until_codes(charts: ChartCache, tenant: uuid.UUID, connection: uuid.UUID,
                       codes: set[str]) -> None:
    for _ in range(50):
        if set((await charts.get(tenant, connection)).accounts) == codes:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the chart never showed {codes}")


class ChartsWithChanges:
    """A gateway whose Xero answers the chart whole, or only what changed since
    `If-Modified-Since` (a deleted account may be left out of that, as it is gone)."""

    def __init__(self) -> None:
        self.chart = {"1210": "ACTIVE", "4000": "ACTIVE"}
        self.sinces: list[str | None] = []
        self.xero = self

    async def call(self, kind: str, tenant_id: uuid.UUID, connection_id: uuid.UUID,
                   send: Callable[[str], Any]) -> Any:
        result, _rate = await send("token")
        return result

    async def accounts(self, token: str, tenant_id: uuid.UUID, since: str | None) -> Any:
        self.sinces.append(since)
        rows = [{"Code": code, "Name": code, "Type": "CURRENT", "Status": status,
                 "AccountID": code} for code, status in self.chart.items()]
        return (rows if since is None else []), "2026-12-04T01:00:00", None

    async def organisation(self, token: str, tenant_id: uuid.UUID) -> Any:
        return {"Name": "Changing Rentals"}, None


async def test_an_account_error_reads_the_chart_whole_and_a_deleted_account_leaves(
        repo: PostgresChartStore):
    xero = ChartsWithChanges()
    charts = ChartCache(repo, xero, ttl_s=86_400)  # type: ignore[arg-type]
    tenant, connection = uuid.uuid4(), uuid.uuid4()
    try:
        assert set((await charts.get(tenant, connection)).accounts) == {"1210", "4000"}
        del xero.chart["4000"]  # deleted in Xero
        assert set((await charts.get(tenant, connection)).accounts) == {"1210", "4000"}
        assert xero.sinces == [None]  # not read again by the clock within the day

        await charts.invalidate(tenant)  # a journal met an account error
        assert set((await charts.get(tenant, connection)).accounts) == {"1210"}
        assert xero.sinces == [None, None]  # read whole, not changes only
    finally:
        await charts.stop()


def test_if_modified_since_is_sent_in_xeros_documented_form():
    from services.posting.adapters.xero import modified_since

    assert modified_since("Fri, 04 Dec 2026 01:08:44 GMT") == "2026-12-04T01:08:43"
    assert modified_since(None) is None and modified_since("not a date") is None


def test_a_deleted_account_in_a_changes_only_answer_leaves_the_cache():
    from services.posting.adapters.charts import merge_accounts

    old = [{"AccountID": "a", "Code": "1210", "Status": "ACTIVE"},
           {"AccountID": "b", "Code": "4000", "Status": "ACTIVE"}]
    merged = merge_accounts(old, [{"AccountID": "b", "Code": "4000", "Status": "DELETED"}])
    assert [a["Code"] for a in merged] == ["1210"]


async def test_the_organisation_is_read_again_only_after_an_error(repo: PostgresChartStore):
    """An old chart costs one call (accounts); the organisation record (lock dates) is
    read with the first chart and again only once an error marked the chart stale."""
    xero = ChartsBehindAGate()
    charts = ChartCache(repo, xero, ttl_s=0.2, retry_s=0.0)  # type: ignore[arg-type]
    tenant, connection = uuid.uuid4(), uuid.uuid4()
    try:
        await charts.get(tenant, connection)
        assert (xero.reads, xero.organisation_reads) == (1, 1)
        await asyncio.sleep(0.3)  # past the TTL
        xero.codes = ["1210", "4000"]
        await _until_codes(charts, tenant, connection, {"1210", "4000"})
        assert (xero.reads, xero.organisation_reads) == (2, 1)

        await charts.invalidate(tenant)  # e.g. Xero refused a journal: period locked
        await charts.get(tenant, connection)
        assert (xero.reads, xero.organisation_reads) == (3, 2)
    finally:
        await charts.stop()


async def test_charts_beyond_the_memory_bound_are_read_back_from_the_database(
        repo: PostgresChartStore):
    """Memory holds the charts of the organisations used last; an older one comes back
    from the database (no Xero call), and one in use is not the one evicted."""
    xero = ChartsBehindAGate()
    charts = ChartCache(repo, xero, ttl_s=86_400, in_memory=2)  # type: ignore[arg-type]
    first, second, third = (uuid.uuid4() for _ in range(3))
    connection = uuid.uuid4()
    try:
        for tenant in (first, second):
            await charts.get(tenant, connection)
        await charts.get(first, connection)  # used again: now the newest
        await charts.get(third, connection)  # evicts `second`, the one used longest ago
        assert xero.reads == 3
        assert charts.read_at(second) is None and charts.read_at(first) is not None

        assert set((await charts.get(second, connection)).accounts) == {"1210"}
        assert xero.reads == 3  # from the database, not from Xero
        assert charts.read_at(first) is None  # `first` was the oldest now
    finally:
        await charts.stop()
