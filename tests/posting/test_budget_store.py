"""The rate budget in PostgreSQL, asked by many drains at once (requests decided in
groups) and by several repositories at once (as replicas would): no organisation ever
gets more slots than its limits allow, nor the app more than its minute."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.posting.adapters.rate_budget import PostgresRateBudget
from services.posting.adapters.stores import PostingStores
from services.posting.domain.budget import Limits
from tests.posting.conftest import SCHEMA, Store, day_event
from tests.support.statements import noting_pool


async def _recorded(repo: PostingStores, count: int) -> list[Store]:
    """Stores of new organisations, a day of each recorded in one batch."""
    stores = [Store(f"budget-{uuid.uuid4().hex[:6]}", uuid.uuid4(), uuid.uuid4())
              for _ in range(count)]
    await repo.recording.record_many([day_event(store) for store in stores])
    return stores


async def _ask(repos: list[PostingStores], tenants: list[uuid.UUID], limits: Limits,
               per_tenant: int) -> list[tuple[uuid.UUID, Any]]:
    """Every tenant asks `per_tenant` times, spread over the repositories, all at once."""
    asks = [(repos[i % len(repos)], tenant) for tenant in tenants for i in range(per_tenant)]
    answers = await asyncio.gather(*(repo.budget.acquire_call(tenant, limits)
                                     for repo, tenant in asks))
    return [(tenant, slot) for (_, tenant), (_, slot) in zip(asks, answers, strict=True)]


async def test_concurrent_slots_per_organisation_are_capped(repos: list[PostingStores]) -> None:
    tenants = [uuid.uuid4() for _ in range(12)]
    limits = Limits(per_minute=60, concurrent=3)
    granted = [(t, s) for t, s in await _ask(repos, tenants, limits, per_tenant=7) if s]
    for tenant in tenants:
        slots = [s for t, s in granted if t == tenant]
        # Never more than 3 at once, and every organisation got at least one.
        assert 1 <= len(slots) <= 3
        assert len(set(slots)) == len(slots)
    again = [(t, s) for t, s in await _ask(repos, tenants, limits, per_tenant=7) if s]
    for tenant in tenants:
        held = [s for t, s in granted + again if t == tenant]
        assert len(held) <= 3, f"{tenant} holds {len(held)} slots"


async def test_released_slots_are_granted_again_within_the_minute(
    repos: list[PostingStores],
) -> None:
    repo = repos[0]
    tenants = [uuid.uuid4() for _ in range(5)]
    limits = Limits(per_minute=4, concurrent=2)
    calls = 0
    for _ in range(6):
        answers = await _ask([repo], tenants, limits, per_tenant=2)
        for tenant, slot in answers:
            if slot is not None:
                calls += 1
                await repo.budget.release_call(tenant, slot, None)
    # Each organisation: 4 calls a minute at most, and they are all given.
    assert calls == 4 * len(tenants)


async def _clear_of_a_minute_boundary(pool: asyncpg.Pool) -> None:
    """The app's budget is a fixed minute (as Xero counts it): a test that fills it must
    not straddle two, or the second minute grants more (seen: 10 slots granted of 7)."""
    second = float(await pool.fetchval("SELECT extract(second FROM clock_timestamp())"))
    if second > 55:
        await asyncio.sleep(60.5 - second)


async def test_the_app_minute_caps_every_organisation_together(
    pools: list[asyncpg.Pool], repos: list[PostingStores],
) -> None:
    await _clear_of_a_minute_boundary(pools[0])
    tenants = [uuid.uuid4() for _ in range(20)]
    limits = Limits(per_minute=60, concurrent=5, app_per_minute=7)
    granted = [s for _, s in await _ask(repos, tenants, limits, per_tenant=2) if s]
    assert len(granted) == 7


async def test_recording_a_day_makes_its_organisations_budget_row(
    pools: list[asyncpg.Pool], repos: list[PostingStores],
) -> None:
    """The first call of a new organisation finds its row (no insert, no second read)."""
    repo = repos[0]
    stores = await _recorded(repo, 3)
    rows = await pools[0].fetch(
        "SELECT tenant_id, calls, in_flight FROM rate_budget WHERE tenant_id = ANY($1)",
        [store.tenant_id for store in stores])
    assert {row["tenant_id"] for row in rows} == {store.tenant_id for store in stores}
    assert all(row["calls"] == [] and row["in_flight"] == [] for row in rows)
    # Recording another day of one of them leaves its row as it is.
    _, slot = await repo.budget.acquire_call(stores[0].tenant_id,
                                             Limits(per_minute=60, concurrent=5))
    await repo.recording.record_many([day_event(stores[0], day=date(2026, 11, 2))])
    held = await pools[0].fetchval(
        "SELECT in_flight FROM rate_budget WHERE tenant_id = $1", stores[0].tenant_id)
    assert held == [slot]


@pytest.mark.parametrize("together", [True, False], ids=["one group", "one by one"])
async def test_releases_free_their_slots_and_keep_the_later_block(
    pools: list[asyncpg.Pool], repos: list[PostingStores], together: bool,
) -> None:
    """Together: its chart call and a batch end at once (one group, one joined row per
    organisation). One by one: the single-row statement of a low rate."""
    repo = repos[0]
    tenant = uuid.uuid4()
    limits = Limits(per_minute=60, concurrent=5)
    slots = [(await repo.budget.acquire_call(tenant, limits))[1] for _ in range(3)]
    later = datetime.now(UTC) + timedelta(seconds=30)
    releases = [(tenant, slots[0], later, None), (tenant, slots[1], None, None)]
    for group in ([releases] if together else [[r] for r in releases]):
        await repo.budget._release_calls(group)
    row = await pools[0].fetchrow(
        "SELECT in_flight, blocked_until FROM rate_budget WHERE tenant_id = $1", tenant)
    assert row["in_flight"] == [slots[2]]
    assert row["blocked_until"] == later


async def test_a_group_the_app_minute_cannot_hold_is_given_back_whole(
    pools: list[asyncpg.Pool], repos: list[PostingStores],
) -> None:
    repo = repos[0]
    tenants = [store.tenant_id for store in await _recorded(repo, 4)]
    await _clear_of_a_minute_boundary(pools[0])
    await pools[0].execute(
        "UPDATE app_budget SET window_start = date_trunc('minute', now()), calls = 8")
    limits = Limits(per_minute=60, concurrent=5, app_per_minute=10)
    # Four organisations decided together where two calls are left in the app's minute.
    answers = await repo.budget._acquire_group([(tenant, limits) for tenant in tenants])
    assert all(slot is None and wait > 0 for wait, slot in answers)
    held = await pools[0].fetch(
        "SELECT in_flight, calls FROM rate_budget WHERE tenant_id = ANY($1)", tenants)
    assert len(held) == 4
    assert all(row["in_flight"] == [] and row["calls"] == [] for row in held)
    assert await pools[0].fetchval("SELECT calls FROM app_budget") == 8



@pytest.fixture
async def logged_budget(database_url: str, pools: list[asyncpg.Pool]
                        ) -> AsyncIterator[tuple[PostgresRateBudget, list[str]]]:
    """A rate budget on a pool of its own that notes every statement it sends (a pool
    like posting's: no reset statement when a connection goes back to it)."""
    sent: list[str] = []
    pool = await noting_pool(database_url, SCHEMA, sent)
    rate_budget = PostgresRateBudget(pool)
    yield rate_budget, sent
    await rate_budget.stop()
    await pool.close()


async def _called_once(rate_budget: PostgresRateBudget, repo: PostingStores,
                       limits: Limits) -> uuid.UUID:
    """A new organisation this replica has called once: its row is this replica's copy."""
    tenant = (await _recorded(repo, 1))[0].tenant_id
    _, slot = await rate_budget.acquire_call(tenant, limits)
    assert slot is not None
    await rate_budget.release_call(tenant, slot, None)
    return tenant


async def test_an_organisation_this_replica_knows_is_decided_in_one_statement(
    pools: list[asyncpg.Pool], repos: list[PostingStores],
    logged_budget: tuple[PostgresRateBudget, list[str]],
) -> None:
    """The row as the replica's last statement left it is decided on and written where
    it still is that row: a call and its release are two statements, not three."""
    rate_budget, sent = logged_budget
    limits = Limits(per_minute=60, concurrent=5)
    tenant = await _called_once(rate_budget, repos[0], limits)  # read, then written
    sent.clear()
    slots = []
    for _ in range(3):
        _, slot = await rate_budget.acquire_call(tenant, limits)
        slots.append(slot)
        await rate_budget.release_call(tenant, slot, None)
    assert all(slots)
    assert len(sent) == 6, sent
    row = await pools[0].fetchrow(
        "SELECT calls, in_flight FROM rate_budget WHERE tenant_id = $1", tenant)
    assert row["in_flight"] == [] and len(row["calls"]) == 4


async def test_a_row_another_replica_changed_is_decided_on_as_the_write_found_it(
    pools: list[asyncpg.Pool], repos: list[PostingStores],
    logged_budget: tuple[PostgresRateBudget, list[str]],
) -> None:
    """This replica's copy says one slot is free; another replica took it meanwhile. The
    write on the copy does not happen, and the row it found says the call waits."""
    rate_budget, sent = logged_budget
    tenant = (await _recorded(repos[0], 1))[0].tenant_id
    limits = Limits(per_minute=60, concurrent=2)
    _, mine = await rate_budget.acquire_call(tenant, limits)
    _, other = await repos[1].budget.acquire_call(tenant, limits)
    assert mine and other
    sent.clear()
    wait, slot = await rate_budget.acquire_call(tenant, limits)
    assert slot is None and wait > 0
    assert [q.split()[0] for q in sent] == ["WITH"], sent
    held = await pools[0].fetchval(
        "SELECT in_flight FROM rate_budget WHERE tenant_id = $1", tenant)
    assert sorted(held) == sorted([mine, other])


async def test_a_copy_decided_ahead_of_the_database_clock_is_not_written(
    pools: list[asyncpg.Pool], repos: list[PostingStores],
    logged_budget: tuple[PostgresRateBudget, list[str]],
) -> None:
    """Our clock estimate runs ahead of the database's: the copy says the minute's oldest
    call has left the window, the database's clock says not yet. The write does not
    happen, and decided again on the database's clock the call waits: no second call in
    a minute of one."""
    rate_budget, sent = logged_budget
    limits = Limits(per_minute=1, concurrent=5)
    tenant = await _called_once(rate_budget, repos[0], limits)
    rate_budget._clock_offset = (rate_budget._clock_offset or timedelta()) + limits.window
    sent.clear()
    wait, slot = await rate_budget.acquire_call(tenant, limits)
    assert slot is None and wait > 50
    assert [q.split()[0] for q in sent] == ["WITH"], sent
    calls = await pools[0].fetchval("SELECT calls FROM rate_budget WHERE tenant_id = $1",
                                    tenant)
    assert len(calls) == 1


async def test_organisations_this_replica_knows_are_decided_together_without_a_read(
    pools: list[asyncpg.Pool], repos: list[PostingStores],
    logged_budget: tuple[PostgresRateBudget, list[str]],
) -> None:
    rate_budget, sent = logged_budget
    tenants = [store.tenant_id for store in await _recorded(repos[0], 3)]
    limits = Limits(per_minute=60, concurrent=5)
    first = await rate_budget._acquire_group([(tenant, limits) for tenant in tenants])
    assert all(slot for _, slot in first)
    sent.clear()
    again = await rate_budget._acquire_group([(tenant, limits) for tenant in tenants])
    assert all(slot for _, slot in again)
    assert [q.split()[0] for q in sent] == ["WITH"], sent
    rows = await pools[0].fetch(
        "SELECT in_flight FROM rate_budget WHERE tenant_id = ANY($1)", tenants)
    assert sorted(len(row["in_flight"]) for row in rows) == [2, 2, 2]


async def test_a_call_whose_copy_another_replica_changed_goes_in_two_statements(
    pools: list[asyncpg.Pool], repos: list[PostingStores],
    logged_budget: tuple[PostgresRateBudget, list[str]],
) -> None:
    """An organisation drained here, then by another replica, then here again: the first
    write fails, the second (on the row as the first found it) succeeds. Two statements,
    as a read and a write would be; alone or decided with another organisation."""
    rate_budget, sent = logged_budget
    hopping, staying = [store.tenant_id for store in await _recorded(repos[0], 2)]
    limits = Limits(per_minute=60, concurrent=5)
    for tenant in (hopping, staying):
        _, slot = await rate_budget.acquire_call(tenant, limits)
        await rate_budget.release_call(tenant, slot, None)
    _, elsewhere = await repos[1].budget.acquire_call(hopping, limits)
    sent.clear()
    _, slot = await rate_budget.acquire_call(hopping, limits)
    assert slot is not None
    assert [q.split()[0] for q in sent] == ["WITH", "WITH"], sent
    await repos[1].budget.release_call(hopping, elsewhere, None)
    sent.clear()
    together = await rate_budget._acquire_group([(hopping, limits), (staying, limits)])
    assert all(slot for _, slot in together)
    assert [q.split()[0] for q in sent] == ["WITH", "WITH"], sent
    rows = {r["tenant_id"]: r for r in await pools[0].fetch(
        "SELECT tenant_id, calls, in_flight FROM rate_budget WHERE tenant_id = ANY($1)",
        [hopping, staying])}
    assert (len(rows[hopping]["calls"]), len(rows[hopping]["in_flight"])) == (4, 2)
    assert (len(rows[staying]["calls"]), len(rows[staying]["in_flight"])) == (2, 1)


async def test_a_write_that_waited_for_another_is_followed_by_a_read(
    pools: list[asyncpg.Pool], repos: list[PostingStores],
    logged_budget: tuple[PostgresRateBudget, list[str]],
) -> None:
    """Another replica's write holds the row when this one's starts: the statement's
    snapshot still shows the copy, so what it found is no news. The row is read, and the
    call goes on the row as it is now."""
    rate_budget, sent = logged_budget
    limits = Limits(per_minute=60, concurrent=5)
    tenant = await _called_once(rate_budget, repos[0], limits)
    other = await pools[1].acquire()
    try:
        writing = other.transaction()
        await writing.start()
        await other.execute(
            "UPDATE rate_budget SET in_flight = ARRAY[now() + interval '1 minute']"
            " WHERE tenant_id = $1", tenant)
        sent.clear()
        asking = asyncio.create_task(rate_budget.acquire_call(tenant, limits))
        await asyncio.sleep(0.3)  # the write waits for the row
        await writing.commit()
        _, slot = await asking
    finally:
        await pools[1].release(other)
    assert slot is not None
    assert [q.split()[0] for q in sent] == ["WITH", "SELECT", "WITH"], sent
    held = await pools[0].fetchval(
        "SELECT in_flight FROM rate_budget WHERE tenant_id = $1", tenant)
    assert len(held) == 2 and slot in held


async def test_a_replica_keeps_the_rows_of_the_organisations_it_called_last(
    database_url: str, pools: list[asyncpg.Pool], repos: list[PostingStores],
) -> None:
    """Rows kept are bounded: the organisation called longest ago is read again."""
    sent: list[str] = []
    pool = await noting_pool(database_url, SCHEMA, sent)
    rate_budget = PostgresRateBudget(pool, rows_kept=2)
    try:
        first, second, third = [s.tenant_id for s in await _recorded(repos[0], 3)]
        limits = Limits(per_minute=60, concurrent=5)
        for tenant in (first, second, third):
            _, slot = await rate_budget.acquire_call(tenant, limits)
            await rate_budget.release_call(tenant, slot, None)
        assert list(rate_budget._rows) == [second, third]
        sent.clear()
        await rate_budget.acquire_call(third, limits)
        await rate_budget.acquire_call(first, limits)
        assert [q.split()[0] for q in sent] == ["WITH", "SELECT", "WITH"], sent
    finally:
        await rate_budget.stop()
        await pool.close()


async def test_a_row_gone_since_it_was_copied_is_made_again(
    pools: list[asyncpg.Pool], repos: list[PostingStores],
    logged_budget: tuple[PostgresRateBudget, list[str]],
) -> None:
    """The copy names a row the database no longer has: the write finds nothing, the row
    is made again and the call granted on it."""
    rate_budget, sent = logged_budget
    limits = Limits(per_minute=60, concurrent=5)
    tenant = await _called_once(rate_budget, repos[0], limits)
    await pools[0].execute("DELETE FROM rate_budget WHERE tenant_id = $1", tenant)
    sent.clear()
    _, slot = await rate_budget.acquire_call(tenant, limits)
    assert slot is not None
    assert [q.split()[0] for q in sent] == ["WITH", "SELECT", "INSERT", "SELECT", "WITH"], sent
    held = await pools[0].fetchval(
        "SELECT in_flight FROM rate_budget WHERE tenant_id = $1", tenant)
    assert held == [slot]
