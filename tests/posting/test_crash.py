"""SIGKILL of the posting process mid-way: afterwards each day is in Xero exactly once."""

import asyncio
from collections import Counter
from datetime import timedelta

import asyncpg

from shared.contracts.events import GlPostingSucceeded
from tests.posting.conftest import DAY, PostingRig, day_event, wait_for_value


async def wait_for_state(database_url: str, state: str, timeout: float = 20.0) -> None:
    await wait_for_value(
        database_url, f"SELECT count(*) FROM posting.postings WHERE state = '{state}'",
        bool, f"a posting reached {state}", timeout)


async def journals_appear(rig: PostingRig, tenant_id, count: int, timeout: float = 20.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        journals = await rig.journals(tenant_id)
        if len(journals) >= count:
            return journals
        await asyncio.sleep(0.05)
    raise AssertionError("the journal never reached the sandbox")


async def test_killed_after_xero_accepted_but_before_recording_posts_once(rig: PostingRig):
    store = await rig.connect("5")
    posting = rig.start_posting()
    await rig.faults(latency_ms={"min": 800, "max": 800})
    await rig.publish(day_event(store))
    await wait_for_state(rig.database_url, "in_flight")
    # Hold the posting's row, so its outcome cannot be recorded once Xero has answered.
    blocker = await asyncpg.connect(rig.database_url)
    tx = blocker.transaction()
    await tx.start()
    await blocker.execute("SELECT 1 FROM posting.postings FOR UPDATE")
    await journals_appear(rig, store.tenant_id, 1)
    await asyncio.sleep(0.3)
    posting.kill()  # Xero has the journal; the process never recorded it
    # Its recording statement still waits for the row: the server would run it once the
    # row is free, as it does not notice a dead client until it answers. Ended here, as a
    # server that noticed would, so that the restart must find the journal by lookup.
    await blocker.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'")
    await tx.rollback()
    await blocker.close()
    await rig.faults()
    assert await wait_state_count(rig.database_url, "in_flight") == 1

    rig.start_posting()
    [outcome] = await rig.outcomes(1)
    assert isinstance(outcome, GlPostingSucceeded), outcome
    assert outcome.already_posted  # found by its narration, not posted again
    [journal] = await rig.journals(store.tenant_id)
    assert journal["ManualJournalID"] == str(outcome.journal_id)


async def wait_state_count(database_url: str, state: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM posting.postings WHERE state = $1", state
        )
        return count
    finally:
        await conn.close()


async def test_killed_before_the_call_reaches_xero_posts_once(rig: PostingRig):
    store = await rig.connect("15")
    posting = rig.start_posting()
    await rig.faults(latency_ms={"min": 800, "max": 800})
    await rig.publish(day_event(store))
    await wait_for_state(rig.database_url, "in_flight")
    posting.kill()  # marked in flight; the request was cut off on its way
    await rig.faults()
    rig.start_posting()
    [outcome] = await rig.outcomes(1)
    assert isinstance(outcome, GlPostingSucceeded), outcome
    [journal] = await rig.journals(store.tenant_id)
    assert journal["ManualJournalID"] == str(outcome.journal_id)


async def test_repeated_kills_during_a_run_leave_every_day_in_xero_exactly_once(rig: PostingRig):
    store = await rig.connect("6")
    rig.start_posting(POSTING_BATCH_SIZE="5")
    await rig.faults(latency_ms={"min": 100, "max": 600})
    days = [DAY - timedelta(days=i) for i in range(30)]
    await rig.publish(*(day_event(store, day) for day in days))
    for _ in range(3):
        await asyncio.sleep(0.8)
        rig.postings[-1].kill()
        rig.start_posting(POSTING_BATCH_SIZE="5")
    outcomes = await rig.outcomes_of_days(days, timeout=90)
    assert {o.business_date for o in outcomes} == set(days)
    assert all(isinstance(o, GlPostingSucceeded) for o in outcomes)
    narrations = Counter(j["Narration"] for j in await rig.journals(store.tenant_id))
    assert len(narrations) == len(days) and set(narrations.values()) == {1}
