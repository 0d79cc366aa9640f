"""Three posting processes share one organisation's Xero limits: no 429, never more than
Xero's concurrency, and the minute budget counts every replica's calls."""

from collections import Counter
from datetime import timedelta

import asyncpg

from shared.contracts.events import GlPostingSucceeded
from tests.posting.conftest import DAY, PostingRig, day_event, wait_for_value
from tests.posting.test_transient import failed_calls as calls_made


async def test_three_processes_drain_one_organisation_within_its_limits(rig: PostingRig):
    store = await rig.connect("1")
    for _ in range(3):
        rig.start_posting()
    days = [DAY - timedelta(days=i) for i in range(300)]
    await rig.publish(*(day_event(store, day) for day in days))
    outcomes = await rig.outcomes(len(days), timeout=90)
    assert len(outcomes) == len(days)
    assert all(isinstance(o, GlPostingSucceeded) for o in outcomes)
    stats = await rig.stats()
    tenant = str(store.tenant_id)
    assert stats["rate_limited"].get(tenant, 0) == 0
    assert stats["max_concurrent"].get(tenant, 0) <= 5
    # 300 days in batches of 50, plus the chart: a handful of calls, not 300.
    assert stats["requests"][tenant] <= 12
    narrations = Counter(j["Narration"] for j in await rig.journals(tenant))
    assert len(narrations) == len(days) and set(narrations.values()) == {1}


async def test_the_minute_budget_is_shared_by_the_replicas(rig: PostingRig):
    """A tight minute (10 calls): batches of one, three processes. Within the first
    minute the sandbox sees at most 10 calls and no 429; the rest wait in the database."""
    store = await rig.connect("2")
    (await rig.sandbox.client.put("/_control/limits", json={
        "concurrent": 5, "per_minute": 10, "per_day": 5000, "app_per_minute": 10000,
    })).raise_for_status()
    for _ in range(3):
        rig.start_posting(POSTING_XERO_PER_MINUTE="10", POSTING_BATCH_SIZE="1")
    days = [DAY - timedelta(days=i) for i in range(20)]
    await rig.publish(*(day_event(store, day) for day in days))
    tenant = str(store.tenant_id)
    # The minute's ten calls made (the sandbox counted them), and none of them still
    # awaiting its outcome: all the first minute allows is done, and no wait proves it.
    await calls_made(rig, tenant, 10, timeout=70)
    await wait_for_value(rig.database_url,
                         "SELECT count(*) FROM posting.postings WHERE state = 'in_flight'",
                         lambda n: n == 0, "every call of the minute answered")
    outcomes = await rig.outcomes(0)
    stats = await rig.stats()
    assert stats["rate_limited"].get(tenant, 0) == 0
    assert stats["requests"][tenant] <= 10
    assert 1 <= len(outcomes) <= 8  # the chart took two of the ten calls
    conn = await asyncpg.connect(rig.database_url)
    try:
        # Waiting for the budget, or paced (past half the minute a drain waits 60/limit
        # seconds before each batch): pending either way, not sent.
        waiting = await conn.fetchval(
            "SELECT count(*) FROM posting.postings WHERE state = 'pending'")
    finally:
        await conn.close()
    assert waiting == len(days) - len(outcomes)
