"""First closes written in groups (`PgFirstCloses`) on a real PostgreSQL: a group is one
statement, each day is written once with its revision and its event, and a day that is
there already (or twice in the group) is left to the full path."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from services.totals.adapters.first_closes import PgFirstCloses
from services.totals.domain.day import decide_close
from services.totals.domain.examples import example_store_setup, example_totals
from services.totals.domain.journal import build_day, make_journal
from services.totals.domain.records import ACTIVE, KeyRecord, SetupRecord
from services.totals.service_layer.outcomes import closed_event
from services.totals.service_layer.unit_of_work import FirstClose
from shared.contracts.events import Trigger
from shared.db import apply_migrations, create_pool
from shared.outbox import HandOff
from tests.support.statements import noting_pool

MIGRATIONS = Path(__file__).parents[2] / "services" / "totals" / "migrations"
DAY = date(2026, 11, 27)


@pytest.fixture
async def noted(database_url: str) -> AsyncIterator[tuple[asyncpg.Pool, list[str]]]:
    """The totals schema, and a pool on it that notes each statement it sends."""
    await apply_migrations(database_url, "totals", MIGRATIONS)
    sent: list[str] = []
    pool = await noting_pool(database_url, "totals", sent)
    yield pool, sent
    await pool.close()


def first_close(store_id: str, business_date: date = DAY, posted: bool = True) -> FirstClose:
    setup = SetupRecord(store_id, KeyRecord("hash", uuid.uuid4(), uuid.uuid4(), "Demo Ltd",
                                            ACTIVE),
                        example_store_setup(auto_post=posted), datetime.now(UTC))
    totals = example_totals()
    built = build_day(store_id, setup.setup, totals)
    decision = decide_close(None, built, auto_post=posted)
    journal = make_journal(store_id, business_date, 1, built)
    event = closed_event(store_id, business_date, 1, journal, Trigger.END_OF_DAY,
                         setup) if decision.publish else None
    return FirstClose(store_id, business_date, decision.state, totals.model_dump(mode="json"),
                      journal, Trigger.END_OF_DAY, event)


async def rows(pool: asyncpg.Pool, sql: str) -> list[dict[str, Any]]:
    return [dict(r) for r in await pool.fetch(sql)]


async def test_closes_arriving_together_are_written_in_one_statement(noted) -> None:
    pool, sent = noted
    handed = HandOff()
    closes = PgFirstCloses(pool, handed)
    given = [first_close(str(100 + n)) for n in range(20)]
    try:
        sent.clear()
        stamps = await asyncio.gather(*(closes.add_first(c) for c in given))
    finally:
        await closes.stop()
    assert all(isinstance(stamp, datetime) for stamp in stamps)
    assert len([q for q in sent if "INSERT INTO days" in q]) < len(given)
    days = await rows(pool, "SELECT store_id, revision, status FROM days ORDER BY store_id")
    assert days == [{"store_id": c.store_id, "revision": 1, "status": "pending"}
                    for c in given]
    assert await pool.fetchval("SELECT count(*) FROM day_revisions WHERE revision = 1") == 20
    outbox = {r["event_id"] for r in await rows(pool, "SELECT event_id FROM outbox")}
    assert outbox == {c.event.event_id for c in given if c.event is not None}
    relayed: set[uuid.UUID] = set()
    while relayed != outbox:  # one take per group written
        relayed |= {row.event_id for row in await asyncio.wait_for(handed.take(100, 60), 2)}


async def test_a_day_twice_in_a_group_is_written_once_and_the_second_takes_the_full_path(
    noted,
) -> None:
    pool, _ = noted
    closes = PgFirstCloses(pool)
    first, again, other = first_close("12"), first_close("12"), first_close("13")
    try:
        stamps = await asyncio.gather(*(closes.add_first(c) for c in (first, again, other)))
    finally:
        await closes.stop()
    assert stamps[0] is not None and stamps[1] is None and stamps[2] is not None
    events = [r["event_id"] for r in await rows(pool, "SELECT event_id FROM outbox")]
    assert first.event is not None and again.event is not None
    assert first.event.event_id in events and again.event.event_id not in events
    assert await pool.fetchval("SELECT count(*) FROM day_revisions") == 2


async def test_a_day_already_closed_is_left_as_it_is(noted) -> None:
    pool, _ = noted
    closes = PgFirstCloses(pool)
    try:
        assert await closes.add_first(first_close("12")) is not None
        before = await rows(pool, "SELECT * FROM days")
        assert await closes.add_first(first_close("12")) is None
        # A later day of the same store is a first close of its own.
        assert await closes.add_first(first_close("12", DAY + timedelta(days=1))) is not None
    finally:
        await closes.stop()
    assert await rows(pool, f"SELECT * FROM days WHERE business_date = '{DAY}'") == before
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 2


async def test_a_day_not_to_be_posted_is_written_without_an_event(noted) -> None:
    pool, _ = noted
    handed = HandOff()
    closes = PgFirstCloses(pool, handed)
    held = first_close("12", posted=False)
    try:
        assert held.event is None
        assert await closes.add_first(held) is not None
    finally:
        await closes.stop()
    assert await rows(pool, "SELECT status FROM days") == [{"status": held.state.status.value}]
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(handed.take(10, 60), 0.2)


async def test_a_close_the_database_refuses_fails_alone(noted) -> None:
    """PostgreSQL's jsonb cannot hold a NUL character: that close's group is written
    again one close at a time, and only that close fails."""
    pool, _ = noted
    closes = PgFirstCloses(pool)
    good, other = first_close("12"), first_close("13")
    refused = replace(first_close("14"), totals={"note": "\x00"})
    try:
        answers = await asyncio.gather(*(closes.add_first(c) for c in (good, refused, other)),
                                       return_exceptions=True)
        with pytest.raises(asyncpg.DataError):
            await closes.add_first(refused)  # alone in its group
    finally:
        await closes.stop()
    assert isinstance(answers[0], datetime) and isinstance(answers[2], datetime)
    assert isinstance(answers[1], asyncpg.DataError), answers[1]
    stores = [r["store_id"] for r in await rows(pool, "SELECT store_id FROM days")]
    assert sorted(stores) == ["12", "13"]
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 2


async def test_a_database_gone_fails_every_close_of_the_group_and_writes_nothing(
    noted, database_url: str,
) -> None:
    """Every caller gets the error (a 503 at the HTTP door, shared/web.py), so each POS
    sends its close again; nothing is half written."""
    pool, _ = noted
    gone = await create_pool(database_url, "totals", 1, 2)
    await gone.close()
    closes = PgFirstCloses(gone)
    try:
        answers = await asyncio.gather(
            *(closes.add_first(first_close(store)) for store in ("12", "13", "14")),
            return_exceptions=True)
    finally:
        await closes.stop()
    assert all(isinstance(a, asyncpg.InterfaceError) for a in answers), answers
    assert await pool.fetchval("SELECT count(*) FROM days") == 0
