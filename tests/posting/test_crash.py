"""SIGKILL of the posting process mid-way: afterwards each day is in Xero exactly once."""

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg

from shared.contracts.events import GlPostingSucceeded
from tests.posting.conftest import (
    DAY,
    PostingRig,
    day_event,
    held_on_the_ops_monitor,
    wait_for_value,
)


async def wait_for_state(database_url: str, state: str, timeout: float = 20.0) -> None:
    await wait_for_value(
        database_url, f"SELECT count(*) FROM posting.postings WHERE state = '{state}'",
        bool, f"a posting reached {state}", timeout)


@contextlib.asynccontextmanager
async def holding(database_url: str, lock: str, *args: object) -> AsyncIterator[None]:
    """Holds the rows `lock` takes while the body runs (it kills posting meanwhile)."""
    blocker = await asyncpg.connect(database_url)
    tx = blocker.transaction()
    await tx.start()
    try:
        await blocker.execute(lock, *args)
        yield
        # The dead process's statement still waits for the rows: the server would run it
        # once they are free, as it does not notice a dead client until it answers. Ended
        # here, as a server that noticed would, so that the restart must find the journal
        # by lookup.
        await blocker.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'")
    finally:
        await tx.rollback()
        await blocker.close()


async def journals_appear(rig: PostingRig, tenant_id, count: int, timeout: float = 20.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        journals = await rig.journals(tenant_id)
        if len(journals) >= count:
            return journals
        await asyncio.sleep(0.05)
    raise AssertionError("the journal never reached the sandbox")


async def killed_after_xero_accepted(rig: PostingRig, store_id: str):
    """A day Xero has accepted that posting never recorded: in flight, to be looked up."""
    store = await rig.connect(store_id)
    posting = rig.start_posting()
    await rig.faults(latency_ms={"min": 800, "max": 800})
    await rig.publish(day_event(store))
    await wait_for_state(rig.database_url, "in_flight")
    # Hold the posting's row, so its outcome cannot be recorded once Xero has answered.
    async with holding(rig.database_url, "SELECT 1 FROM posting.postings FOR UPDATE"):
        await journals_appear(rig, store.tenant_id, 1)
        await asyncio.sleep(0.3)
        posting.kill()  # Xero has the journal; the process never recorded it
    await rig.faults()
    assert await wait_state_count(rig.database_url, "in_flight") == 1
    return store


async def test_killed_after_xero_accepted_but_before_recording_posts_once(rig: PostingRig):
    store = await killed_after_xero_accepted(rig, "5")
    rig.start_posting()
    [outcome] = await rig.outcomes(1)
    assert isinstance(outcome, GlPostingSucceeded), outcome
    assert outcome.already_posted  # found by its narration, not posted again
    [journal] = await rig.journals(store.tenant_id)
    assert journal["ManualJournalID"] == str(outcome.journal_id)


async def test_a_lookup_xero_refuses_leaves_the_day_in_doubt_never_failed(rig: PostingRig):
    store = await killed_after_xero_accepted(rig, "7")
    await rig.faults(refuse_where=2)  # 400 QueryParseException, twice
    rig.start_posting()
    error = await wait_for_last_error(rig.database_url, "in doubt")
    assert "QueryParseException" in error or "Syntax error" in error
    [held] = await held_on_the_ops_monitor(rig)
    assert held["state"] == "in_flight" and held["reason"].startswith("in doubt")
    [outcome] = await rig.outcomes(1)  # the third lookup is answered
    assert isinstance(outcome, GlPostingSucceeded), outcome
    assert outcome.already_posted
    assert len(await rig.journals(store.tenant_id)) == 1


async def wait_for_last_error(database_url: str, words: str, timeout: float = 30.0) -> str:
    """The in-flight posting's last error once it holds `words` (it never failed)."""
    conn = await asyncpg.connect(database_url)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            row = await conn.fetchrow("SELECT state, last_error FROM posting.postings")
            assert row is not None and row["state"] != "failed", row
            if row["last_error"] and words in row["last_error"]:
                assert row["state"] == "in_flight", row
                return str(row["last_error"])
            await asyncio.sleep(0.05)
        raise AssertionError(f"no posting's last error says {words!r}")
    finally:
        await conn.close()


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


async def test_killed_between_posting_an_amendment_and_voiding_the_earlier_one(
    rig: PostingRig,
):
    """The new revision is accepted, the process dies before the earlier journal is voided:
    after recovery exactly one journal of the day is live, the new one."""
    store = await rig.connect("16")
    posting = rig.start_posting()
    await rig.publish(day_event(store))
    [first] = await rig.outcomes(1)
    assert isinstance(first, GlPostingSucceeded)
    calls_before = (await rig.stats())["requests"].get(str(store.tenant_id), 0)

    await rig.faults(latency_ms={"min": 800, "max": 800})
    await rig.publish(day_event(store, revision=2, lines=(("Cash", "1210", "300.00"),
                                                          ("Rental", "4000", "-300.00"))))
    await wait_for_state(rig.database_url, "in_flight")
    await wait_for_sandbox_call(rig, str(store.tenant_id), calls_before + 1)
    # The PUT is inside the sandbox; every later call of the organisation waits for its
    # budget row: the void cannot start before the kill.
    async with holding(rig.database_url, "SELECT 1 FROM posting.rate_budget"
                       " WHERE tenant_id = $1 FOR UPDATE", store.tenant_id):
        journals = await journals_appear(rig, store.tenant_id, 2)
        posting.kill()
    await rig.faults()
    # Between the steps: both journals live in Xero, the new revision still in flight.
    assert sorted(j["Status"] for j in journals) == ["POSTED", "POSTED"]
    assert await wait_state_count(rig.database_url, "in_flight") == 1

    rig.start_posting()
    [outcome] = await rig.outcomes(1)
    assert isinstance(outcome, GlPostingSucceeded), outcome
    assert outcome.revision == 2 and outcome.replaced_journal_id == first.journal_id
    statuses = {j["ManualJournalID"]: j["Status"] for j in await rig.journals(store.tenant_id)}
    assert statuses == {str(first.journal_id): "VOIDED", str(outcome.journal_id): "POSTED"}


async def wait_for_sandbox_call(rig: PostingRig, tenant_id: str, count: int,
                                timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if (await rig.stats())["requests"].get(tenant_id, 0) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the sandbox never saw call {count} of {tenant_id}")
