"""The transactional outbox against real PostgreSQL and RabbitMQ: rows handed off after
COMMIT are published at once, and the sweep publishes whatever no hand-off covered."""

import asyncio
import contextlib
from pathlib import Path

import pytest

from shared.contracts.registry import EventRegistry
from shared.db import apply_migrations, create_pool
from shared.messaging.broker import Broker, PublishFailed
from shared.messaging.topology import Topology
from shared.outbox import (
    OUTBOX_TABLE_SQL,
    HandOff,
    OutboxRelay,
    enqueue,
    outbox_row,
)
from shared.unit_of_work import PostgresUnitOfWork
from tests.shared.conftest import QUEUE, failed_event


@pytest.fixture
async def pool(database_url: str, tmp_path: Path):
    (tmp_path / "001_outbox.sql").write_text(OUTBOX_TABLE_SQL)
    await apply_migrations(database_url, "probe", tmp_path)
    pool = await create_pool(database_url, "probe")
    yield pool
    await pool.close()


async def commit_events(pool, count: int) -> set[str]:
    ids = set()
    for i in range(count):
        event = failed_event(f"S{i}")
        async with pool.acquire() as conn, conn.transaction():
            await enqueue(conn, event)
        ids.add(str(event.event_id))
    return ids


async def received_ids(broker: Broker, expected: int, timeout: float = 20.0) -> list[str]:
    channel = await broker.connection.channel()
    queue = await channel.get_queue(broker.topology.queue_name(QUEUE))
    ids: list[str] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while len(ids) < expected and asyncio.get_running_loop().time() < deadline:
        message = await queue.get(fail=False)
        if message is None:
            await asyncio.sleep(0.05)
            continue
        ids.append(EventRegistry().parse(message.body).event_id.hex)
        await message.ack()
    # Then whatever else is already there: called again once the relays have stopped, it
    # reads every duplicate they published (a confirmed publish is in the queue).
    while (message := await queue.get(fail=False)) is not None:
        ids.append(EventRegistry().parse(message.body).event_id.hex)
        await message.ack()
    return ids


async def unpublished(pool) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
    return count


async def commit_handed(pool, handed: HandOff, prefix: str, count: int) -> set[str]:
    """Events committed one transaction each and handed off; their ids as received."""
    ids = set()
    for i in range(count):
        event = failed_event(f"{prefix}{i}")
        async with PostgresUnitOfWork(pool, handed) as uow:
            uow.add_event(event)
            await uow.commit()
        ids.add(event.event_id.hex)
    return ids


async def until_all_marked(pool) -> None:
    """Marks are written in groups, just after the confirms."""
    for _ in range(100):
        if await unpublished(pool) == 0:
            return
        await asyncio.sleep(0.05)


async def stop(*tasks: asyncio.Task) -> None:
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_three_relays_sweep_events_no_hand_off_covered_exactly_once(
    pool, broker: Broker
):
    # Committed by a process that died before handing them off (nothing was handed).
    expected = {uid.replace("-", "") for uid in await commit_events(pool, 150)}
    relays = [OutboxRelay(pool, broker, "probe", batch_size=20, orphan_after_s=0)
              for _ in range(3)]
    tasks = [asyncio.create_task(relay.run()) for relay in relays]
    try:
        ids = await received_ids(broker, len(expected))
    finally:
        await stop(*tasks)
    ids += await received_ids(broker, 0)
    assert sorted(ids) == sorted(expected)
    assert sum(relay.published for relay in relays) == 150
    assert await unpublished(pool) == 0


async def logged(caplog: pytest.LogCaptureFixture, words: str, timeout: float = 10.0) -> None:
    """Until the relay has logged `words` (it tried, and the broker refused)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not any(words in record.getMessage() for record in caplog.records):
        assert loop.time() < deadline, f"the relay never logged {words!r}"
        await asyncio.sleep(0.02)


async def test_events_wait_while_the_broker_is_unreachable_and_flow_when_it_returns(
    pool, broker: Broker, amqp_url: str, namespace: str, caplog: pytest.LogCaptureFixture
):
    await commit_events(pool, 5)
    unreachable = Broker("amqp://guest:guest@127.0.0.1:1/", broker.topology, publish_timeout_s=0.5)
    with pytest.raises(PublishFailed, match="5 of 5 not confirmed"):
        await OutboxRelay(pool, unreachable, "probe", orphan_after_s=0).publish_orphans()
    assert await unpublished(pool) == 5

    # A relay whose broker drops away mid-run keeps the events and retries them.
    flaky = Broker(amqp_url, Topology(namespace=namespace, queues=(QUEUE,)), publish_timeout_s=1)
    await flaky.connect()
    await flaky.close()
    relay = OutboxRelay(pool, flaky, "probe", orphan_after_s=0, error_backoff_s=0.1)
    task = asyncio.create_task(relay.run())
    await logged(caplog, "outbox sweep waiting")  # it tried to publish them, and failed
    assert await unpublished(pool) == 5
    await flaky.connect()
    ids = await received_ids(broker, 5)
    await stop(task)
    assert len(ids) == len(set(ids)) == 5


async def test_handed_off_events_are_published_at_once_and_marked(pool, broker: Broker):
    handed = HandOff()
    # The sweep would wait an hour: only the hand-off can publish these.
    relay = OutboxRelay(pool, broker, "probe", handed, orphan_after_s=3600)
    task = asyncio.create_task(relay.run())
    try:
        expected = await commit_handed(pool, handed, "H", 40)
        with pytest.raises(RuntimeError):
            async with PostgresUnitOfWork(pool, handed) as uow:
                # Written inside the transaction, as a batched statement writes its events.
                uow.written_in_transaction(
                    await enqueue(await uow.writer(), failed_event("rolled-back")))
                raise RuntimeError("the change failed: its event was never committed")
        ids = await received_ids(broker, len(expected))
        await until_all_marked(pool)
    finally:
        await stop(task)
    ids += await received_ids(broker, 0)
    assert sorted(ids) == sorted(expected)
    assert await unpublished(pool) == 0
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 40


async def test_a_hand_off_the_broker_refused_is_published_by_the_sweep(
    pool, broker: Broker, amqp_url: str, namespace: str, caplog: pytest.LogCaptureFixture
):
    flaky = Broker(amqp_url, Topology(namespace=namespace, queues=(QUEUE,)), publish_timeout_s=1)
    await flaky.connect()
    await flaky.close()
    handed = HandOff()
    relay = OutboxRelay(pool, flaky, "probe", handed, orphan_after_s=1, sweep_every_s=0.2,
                        error_backoff_s=0.1)
    task = asyncio.create_task(relay.run())
    try:
        expected = await commit_handed(pool, handed, "R", 5)
        # The hand-off tried and was refused, and so was the sweep that took them over.
        await logged(caplog, "handed events not confirmed, left to the sweep")
        await logged(caplog, "outbox sweep waiting")
        assert await unpublished(pool) == 5
        await flaky.connect()
        ids = await received_ids(broker, 5)
    finally:
        await stop(task)
    ids += await received_ids(broker, 0)
    assert sorted(ids) == sorted(expected)
    assert await unpublished(pool) == 0


async def test_published_events_are_kept_a_week_then_pruned(pool, broker: Broker):
    await commit_events(pool, 12)
    await pool.execute("UPDATE outbox SET published_at = now() - interval '8 days'"
                       " WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT 5)")
    await pool.execute("UPDATE outbox SET published_at = now() - interval '6 days'"
                       " WHERE id IN (SELECT id FROM outbox ORDER BY id OFFSET 5 LIMIT 4)")
    relay = OutboxRelay(pool, broker, "probe")
    assert await relay.prune_published(chunk=2) == 5
    # What is younger than a week, and what was never published, stays.
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 7
    assert await unpublished(pool) == 3


async def test_a_hand_off_holds_a_bounded_number_of_fresh_rows():
    """Past its bound, and once older than the relay allows, rows are the sweep's: the
    process's memory does not grow with a backlog the table already holds."""
    rows = [outbox_row(failed_event(f"B{i}")) for i in range(15)]
    handed = HandOff(limit=10)
    handed(rows)
    assert await handed.take(most=4, fresh_within_s=0.2) == rows[:4]
    assert await handed.take(most=100, fresh_within_s=0.2) == rows[4:10]
    handed(rows[10:12])
    await asyncio.sleep(0.3)
    handed(rows[12:13])
    assert await handed.take(most=100, fresh_within_s=0.2) == rows[12:13]


async def test_marks_the_database_refused_are_written_once_it_answers(pool, broker: Broker):
    """Published, then the database refuses the mark (the table is away): the relay keeps
    the confirmed rows and marks them later, without publishing them again."""
    handed = HandOff()
    relay = OutboxRelay(pool, broker, "probe", handed, orphan_after_s=3600,
                        error_backoff_s=0.1)
    expected = await commit_handed(pool, handed, "M", 5)
    await pool.execute("ALTER TABLE outbox RENAME TO outbox_written")
    task = asyncio.create_task(relay.run())
    try:
        ids = await received_ids(broker, 5)
        assert await pool.fetchval("SELECT count(*) FROM outbox_written"
                                   " WHERE published_at IS NULL") == 5
        await pool.execute("ALTER TABLE outbox_written RENAME TO outbox")
        await until_all_marked(pool)
    finally:
        await stop(task)
    ids += await received_ids(broker, 0)
    assert sorted(ids) == sorted(expected)
    assert await unpublished(pool) == 0
