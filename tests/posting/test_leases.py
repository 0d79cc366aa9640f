"""Tenant leases on a real PostgreSQL: which replica drains which organisation, and how
many organisations the other replicas drain (what bounds the total of every replica)."""

import uuid
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


async def test_each_replica_sees_the_organisations_the_others_drain(
    pools: list[asyncpg.Pool], repos: list[PostingStores],
) -> None:
    due = await organisations_due(repos[0], 10)
    first, second = (PostgresLeases(pool) for pool in pools[:2])
    try:
        taken_by_first = await first.claim_tenants("first", 6, LEASE_S)
        taken_by_second = await second.claim_tenants("second", 6, LEASE_S)
        assert (len(taken_by_first), len(taken_by_second)) == (6, 4)
        assert set(taken_by_first) | set(taken_by_second) == due
        assert (await first.leased_by_others("first"),
                await second.leased_by_others("second")) == (4, 6)
        await first.release_lease(taken_by_first[0], "first")
        assert await second.leased_by_others("second") == 5
    finally:
        await first.stop()
        await second.stop()


async def test_a_lapsed_lease_is_not_counted_and_its_organisation_is_claimed_again(
    pools: list[asyncpg.Pool], repos: list[PostingStores],
) -> None:
    [tenant] = await organisations_due(repos[0], 1)
    first, second = (PostgresLeases(pool) for pool in pools[:2])
    try:
        assert await first.claim_tenants("first", 64, 0.0) == [tenant]  # lapses at once
        assert await second.leased_by_others("second") == 0
        assert await second.claim_tenants("second", 64, LEASE_S) == [tenant]
        assert await first.renew_lease(tenant, "first", LEASE_S) is False
        assert await first.leased_by_others("first") == 1
    finally:
        await first.stop()
        await second.stop()
