"""Tenant leases on a real PostgreSQL: which replica drains which organisation, and how
many organisations every replica together drains at once."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

import asyncpg

from services.posting.adapters.leases import PostgresLeases
from services.posting.adapters.stores import PostingStores
from tests.posting.conftest import Store, day_event

LEASE_S = 30.0


async def organisations_due(repo: PostingStores, count: int) -> set[uuid.UUID]:
    stores = [Store(f"lease-{uuid.uuid4().hex[:6]}", uuid.uuid4(), uuid.uuid4())
              for _ in range(count)]
    await repo.recording.record_many([day_event(s, day=date(2026, 11, 2)) for s in stores])
    return {s.tenant_id for s in stores}


@asynccontextmanager
async def two_replicas(pools: list[asyncpg.Pool], installation_max: int | None = None
                       ) -> AsyncIterator[tuple[PostgresLeases, PostgresLeases]]:
    first, second = (PostgresLeases(pool, installation_max) for pool in pools[:2])
    try:
        yield first, second
    finally:
        await first.stop()
        await second.stop()


async def test_replicas_together_drain_no_more_organisations_than_the_installation_allows(
    pools: list[asyncpg.Pool], repos: list[PostingStores],
) -> None:
    due = await organisations_due(repos[0], 10)
    async with two_replicas(pools, installation_max=4) as (first, second):
        by_first = await first.claim_tenants("first", 3, LEASE_S)
        by_second = await second.claim_tenants("second", 64, LEASE_S)
        full = await second.claim_tenants("second", 64, LEASE_S)
        assert (len(by_first.tenants), by_first.room) == (3, 3)
        assert (len(by_second.tenants), by_second.room) == (1, 1)
        assert full == ([], 0)
        # A lease let go makes room for one more (its organisation is still due, so it
        # may be that one), whichever replica asks.
        await first.release_lease(by_first.tenants[0], "first")
        again = await second.claim_tenants("second", 64, LEASE_S)
        assert (len(again.tenants), again.room) == (1, 1)
        assert {*by_first.tenants, *by_second.tenants, *again.tenants} <= due


async def test_without_an_installation_bound_each_replica_claims_its_own_limit(
    pools: list[asyncpg.Pool], repos: list[PostingStores],
) -> None:
    due = await organisations_due(repos[0], 10)
    async with two_replicas(pools) as (first, second):
        by_first = await first.claim_tenants("first", 6, LEASE_S)
        by_second = await second.claim_tenants("second", 6, LEASE_S)
        assert (len(by_first.tenants), by_first.room) == (6, 6)
        # Room for 6, but only 4 were left: nothing more is due.
        assert (len(by_second.tenants), by_second.room) == (4, 6)
        assert set(by_first.tenants) | set(by_second.tenants) == due


async def test_a_lapsed_lease_leaves_room_and_its_organisation_is_claimed_again(
    pools: list[asyncpg.Pool], repos: list[PostingStores],
) -> None:
    [tenant] = await organisations_due(repos[0], 1)
    async with two_replicas(pools, installation_max=1) as (first, second):
        assert (await first.claim_tenants("first", 64, 0.0)).tenants == [tenant]  # lapses
        assert await second.claim_tenants("second", 64, LEASE_S) == ([tenant], 1)
        assert await first.renew_lease(tenant, "first", LEASE_S) is False
        assert await first.claim_tenants("first", 64, LEASE_S) == ([], 0)
