"""The rate budget in PostgreSQL, asked by many drains at once (requests decided in
groups) and by several repositories at once (as replicas would): no organisation ever
gets more slots than its limits allow, nor the app more than its minute."""

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.posting.adapters.stores import PostingStores
from services.posting.domain.budget import Limits
from tests.posting.conftest import Store, day_event


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
    releases = [(tenant, slots[0], later), (tenant, slots[1], None)]
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
