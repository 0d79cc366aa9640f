"""Recording a batch whose days are all new in one statement (`record_first_sights`,
migration 010), and falling back to the locked transaction when a day is known: on a
real PostgreSQL, through posting's `Recorder`."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest

from services.posting.adapters.unit_of_work import PgPostingUnitOfWork, unit_of_work
from services.posting.domain.model import State
from services.posting.domain.revisions import Recorded, RecordingPlan
from services.posting.service_layer.recording import Recorder
from shared.db import apply_migrations
from tests.posting.conftest import DAY, MIGRATIONS, SCHEMA, Store, day_event
from tests.support.statements import noting_pool


@pytest.fixture
async def noted(database_url: str) -> AsyncIterator[tuple[asyncpg.Pool, list[str]]]:
    await apply_migrations(database_url, SCHEMA, MIGRATIONS)
    sent: list[str] = []
    pool = await noting_pool(database_url, SCHEMA, sent)
    yield pool, sent
    await pool.close()


def _store() -> Store:
    return Store(f"first-{uuid.uuid4().hex[:6]}", uuid.uuid4(), uuid.uuid4())


async def _revisions(pool: asyncpg.Pool, store: Store) -> list[tuple[int, str]]:
    rows = await pool.fetch("SELECT revision, state FROM postings WHERE store_id = $1"
                            " ORDER BY business_date, revision", store.store_id)
    return [(r["revision"], r["state"]) for r in rows]


async def test_a_batch_of_new_days_is_recorded_in_one_statement(
    noted: tuple[asyncpg.Pool, list[str]],
) -> None:
    pool, sent = noted
    store = _store()
    events = [day_event(store, DAY + timedelta(days=n)) for n in range(3)]
    assert await Recorder(unit_of_work(pool)).record_many(events) == [Recorded.NEW] * 3
    assert len(sent) == 1 and "record_first_sights" in sent[0]
    assert await _revisions(pool, store) == [(1, State.PENDING)] * 3
    # The organisation's budget row is made with its first day, as by the locked path.
    assert await pool.fetchval("SELECT count(*) FROM rate_budget WHERE tenant_id = $1",
                               store.tenant_id) == 1


async def test_a_batch_with_a_known_day_writes_nothing_until_decided_under_the_locks(
    noted: tuple[asyncpg.Pool, list[str]],
) -> None:
    pool, sent = noted
    store, recorder = _store(), Recorder(unit_of_work(pool))
    await recorder.record_many([day_event(store)])
    sent.clear()
    later = DAY + timedelta(days=1)
    results = await recorder.record_many([day_event(store), day_event(store, later)])
    assert results == [Recorded.ALREADY_PENDING, Recorded.NEW]
    assert "record_first_sights" in sent[0] and "pg_advisory_xact_lock" in sent[2]
    assert await _revisions(pool, store) == [(1, State.PENDING), (1, State.PENDING)]


async def test_a_batch_that_waited_for_a_days_lock_sees_what_its_holder_recorded(
    noted: tuple[asyncpg.Pool, list[str]], database_url: str,
) -> None:
    """Another replica records revision 2 of the day, holding the day's lock, while this
    one records revision 1 as new: once the lock is free, revision 1 is found superseded,
    not recorded pending beside revision 2 (its read is after the lock, not before)."""
    pool, _ = noted
    store = _store()
    other = await asyncpg.create_pool(database_url, min_size=2, max_size=2,
                                      server_settings={"search_path": SCHEMA})
    assert other is not None
    try:
        async with PgPostingUnitOfWork(other) as holder:
            await holder.revisions.lock_and_read([(store.store_id, DAY)])
            plan = RecordingPlan()
            plan.decide(day_event(store, DAY, revision=2), [])
            await holder.revisions.apply(plan)
            first_sight = asyncio.create_task(
                Recorder(unit_of_work(pool)).record_many([day_event(store)]))
            await _until_a_lock_is_waited_for(other)
            await holder.commit()
        assert await first_sight == [Recorded.SUPERSEDED]
    finally:
        await other.close()
    assert await _revisions(pool, store) == [(1, State.SUPERSEDED), (2, State.PENDING)]


async def _until_a_lock_is_waited_for(pool: asyncpg.Pool) -> None:
    for _ in range(500):
        if await pool.fetchval("SELECT count(*) FROM pg_locks"
                               " WHERE locktype = 'advisory' AND NOT granted"):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no recording waited for the day's lock")
