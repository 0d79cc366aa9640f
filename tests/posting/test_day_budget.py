"""Xero's daily budget per organisation: a day waiting for tomorrow's budget stays
pending with a message saying when it will go, without spending calls or attempts."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import asyncpg
import httpx
import pytest

from services.posting.adapters.auth import AccessToken, AuthClient
from services.posting.adapters.day_budget import PgDayBudget
from services.posting.adapters.gateway import XeroGateway
from services.posting.adapters.rate_budget import PostgresRateBudget
from services.posting.adapters.xero import XeroClient
from services.posting.domain.budget import Limits
from services.posting.domain.day_budget import Answered
from services.posting.domain.records import RateInfo
from shared.contracts.events import GlPostingSucceeded
from shared.db import apply_migrations, create_pool
from tests.posting.conftest import DAY, PostingRig, day_event, held_on_the_ops_monitor
from tests.posting.test_charts import _chart_saved

MIGRATIONS = Path(__file__).parents[2] / "services" / "posting" / "migrations"


async def waiting_row(database_url: str, timeout: float = 30.0) -> asyncpg.Record:
    """The posting once its last error says it waits for tomorrow's budget."""
    conn = await asyncpg.connect(database_url)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            row = await conn.fetchrow(
                "SELECT state, attempts, last_error, next_attempt_at FROM posting.postings"
                " WHERE last_error LIKE '%tomorrow''s Xero budget%'")
            if row is not None:
                return row
            await asyncio.sleep(0.05)
        raise AssertionError("no posting waits for tomorrow's budget")
    finally:
        await conn.close()


async def test_a_spent_day_waits_for_tomorrow_without_calling_xero(rig: PostingRig):
    store = await rig.connect("51")
    # The chart (2 calls) and one journal: the organisation's whole day.
    (await rig.sandbox.client.put("/_control/limits", json={
        "concurrent": 5, "per_minute": 60, "per_day": 3, "app_per_minute": 10000,
    })).raise_for_status()
    rig.start_posting()
    await rig.publish(day_event(store))
    [posted] = await rig.outcomes(1)
    assert isinstance(posted, GlPostingSucceeded), posted

    await rig.publish(day_event(store, DAY + timedelta(days=1)))
    row = await waiting_row(rig.database_url)
    assert row["state"] == "pending" and row["attempts"] == 0
    assert "posts after" in row["last_error"] and "UTC" in row["last_error"]
    assert row["next_attempt_at"] is not None
    # Xero said none were left (X-DayLimit-Remaining: 0): no call was spent on a 429.
    stats = await rig.stats()
    assert stats["rate_limited"].get(str(store.tenant_id), 0) == 0
    # The ops monitor shows the day held back, and why.
    [held] = await held_on_the_ops_monitor(rig)
    assert held["store_id"] == "51" and "posts after" in held["reason"]



async def test_a_day_429_spends_no_attempt_and_says_when(rig: PostingRig):
    store = await rig.connect("52")
    # The organisation's first call (its chart) meets the day limit: the day waits
    # before it is marked in flight, which is what spends an attempt.
    await rig.faults(force_429=1, force_429_problem="day")
    rig.start_posting()
    await rig.publish(day_event(store))
    row = await waiting_row(rig.database_url)
    assert row["state"] == "pending" and row["attempts"] == 0
    assert "posts after" in row["last_error"]



async def _answered(budget: PostgresRateBudget, tenant: uuid.UUID, rate: RateInfo) -> None:
    """One call of the organisation, from its slot to Xero's answer, as the gateway ends
    it: the slot given back and the call counted in one statement."""
    _, slot = await budget.acquire_call(tenant, Limits())
    assert slot is not None
    await budget.release_call(tenant, slot, None, rate)


async def test_the_day_budget_remembers_when_the_day_ran_out(database_url: str):
    """Days that waited for the budget are not failed for their age (the drain asks
    `spent_within`); replicas share the count."""
    await apply_migrations(database_url, "posting", MIGRATIONS)
    pool = await create_pool(database_url, "posting", 1, 2)
    first = PostgresRateBudget(pool, PgDayBudget(pool, per_day=5000))
    try:
        second = PgDayBudget(pool, per_day=5000)
        spent, fine = uuid.uuid4(), uuid.uuid4()
        await _answered(first, fine, RateInfo(day_remaining=4000))
        await _answered(first, spent, RateInfo(day_remaining=1))
        assert await second.next_call_at(spent) is None
        await _answered(first, spent, RateInfo(day_remaining=0))
        assert await second.spent_within(spent, 60) and not await second.spent_within(fine, 60)
        until = await second.next_call_at(spent)  # another replica sees it spent
        assert until is not None and until > datetime.now(UTC) + timedelta(hours=23)
        assert first.day is not None and await first.day.next_call_at(spent) == until
        await _answered(first, fine, RateInfo(problem="day", retry_after_s=3600))
        blocked = await second.next_call_at(fine)
        assert blocked is not None and blocked < datetime.now(UTC) + timedelta(hours=2)
    finally:
        await first.stop()
        await pool.close()


async def test_calls_answered_at_once_are_counted_together_and_a_day_over_begins_again(
        database_url: str):
    """Twenty calls of one organisation and one of another end in one group: one
    statement gives their slots back and counts them, each organisation's calls merged."""
    await apply_migrations(database_url, "posting", MIGRATIONS)
    pool = await create_pool(database_url, "posting", 1, 2)
    day = PgDayBudget(pool, per_day=5000)
    budget = PostgresRateBudget(pool, day)
    busy, spent_yesterday = uuid.uuid4(), uuid.uuid4()
    try:
        await pool.execute(
            "INSERT INTO day_budget (tenant_id, window_start, used, xero_remaining)"
            " VALUES ($1, now() - interval '25 hours', 5000, 0)", spent_yesterday)
        assert await day.next_call_at(spent_yesterday) is None  # its day is over
        await pool.execute("INSERT INTO rate_budget (tenant_id) VALUES ($1), ($2)",
                           busy, spent_yesterday)
        now = datetime.now(UTC)
        ended = [(busy, now, None, Answered(busy, now, RateInfo(day_remaining=4990 - n)))
                 for n in range(20)]
        ended.append((spent_yesterday, now, None,
                      Answered(spent_yesterday, now, RateInfo(day_remaining=4999))))
        await budget._release_calls(ended)
        rows = {row["tenant_id"]: row for row in await pool.fetch(
            "SELECT tenant_id, used, xero_remaining, window_start FROM day_budget")}
        assert (rows[busy]["used"], rows[busy]["xero_remaining"]) == (20, 4971)
        today = rows[spent_yesterday]
        assert (today["used"], today["xero_remaining"]) == (1, 4999)
        assert today["window_start"] > datetime.now(UTC) - timedelta(minutes=1)
        # The counts the statement returned are this replica's copies: no read needed.
        copy = day._copies[busy][1]
        assert copy is not None and copy.used == 20
    finally:
        await budget.stop()
        await pool.close()


async def test_a_429_on_the_journal_itself_spends_no_attempt(rig: PostingRig):
    """The batch is marked in flight (the mark counts an attempt) before Xero answers 429:
    the attempt is given back, so one allowed attempt still posts the day."""
    store = await rig.connect("54")
    rig.start_posting(POSTING_MAX_ATTEMPTS="1")
    assert await _chart_saved(rig.database_url, store.tenant_id)  # read ahead on connect
    # The organisation's minute is nearly over: its Retry-After is a few seconds.
    (await rig.sandbox.client.post("/_control/clock/advance", json={"seconds": 57})
     ).raise_for_status()
    await rig.faults(force_429=1, force_429_problem="minute")
    await rig.publish(day_event(store))
    [posted] = await rig.outcomes(1, timeout=60)
    assert isinstance(posted, GlPostingSucceeded), posted
    assert (await rig.stats())["rate_limited"].get(str(store.tenant_id)) == 1
    # The gateway gave Xero's Retry-After to the budget every replica shares, and
    # counted the 429 where an operator sees it.
    conn = await asyncpg.connect(rig.database_url)
    try:
        blocked = await conn.fetchval(
            "SELECT blocked_until FROM posting.rate_budget WHERE tenant_id = $1",
            store.tenant_id)
    finally:
        await conn.close()
    assert blocked is not None
    async with httpx.AsyncClient(timeout=10) as client:
        metrics = (await client.get(f"{rig.postings[0].url}/metrics")).text
    assert "glbridge_posting_xero_rate_limited_total 1.0" in metrics



class _Tokens:
    """Auth's side of a call, which this test is not about."""

    async def token(self, connection_id: uuid.UUID) -> AccessToken:
        return AccessToken("token", datetime.now(UTC) + timedelta(hours=1), None)


async def test_a_call_whose_end_cannot_be_written_still_gives_xeros_answer(
        database_url: str, caplog: pytest.LogCaptureFixture):
    """The database goes away while Xero answers: the slot (it expires by itself) and the
    day's count (Xero's own remaining count makes it good) are lost, the answer is not."""
    await apply_migrations(database_url, "posting", MIGRATIONS)
    pool = await create_pool(database_url, "posting", 1, 2)
    budget = PostgresRateBudget(pool, PgDayBudget(pool, per_day=5000))
    gateway = XeroGateway(budget, cast(XeroClient, None), cast(AuthClient, _Tokens()),
                          Limits(), day=budget.day)

    async def answered_as_the_database_goes(token: str) -> tuple[str, RateInfo]:
        await pool.close()
        return "journal posted", RateInfo(day_remaining=4000)

    try:
        answer = await gateway.call("put", uuid.uuid4(), uuid.uuid4(),
                                    answered_as_the_database_goes)
    finally:
        await budget.stop()
    assert answer == "journal posted"
    assert any("could not end a Xero call" in r.getMessage() for r in caplog.records)
