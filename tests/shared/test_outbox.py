"""The transactional outbox against real PostgreSQL and RabbitMQ."""

import asyncio
import contextlib
from pathlib import Path

import pytest

from shared.contracts.registry import EventRegistry
from shared.db import apply_migrations, create_pool
from shared.messaging.broker import Broker, PublishFailed
from shared.messaging.topology import Topology
from shared.outbox import OUTBOX_TABLE_SQL, OutboxRelay, enqueue
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
    await asyncio.sleep(0.3)  # anything extra (a duplicate) would have arrived by now
    while (message := await queue.get(fail=False)) is not None:
        ids.append(EventRegistry().parse(message.body).event_id.hex)
        await message.ack()
    return ids


async def test_three_relays_publish_every_committed_event_exactly_once(
    pool, broker: Broker, database_url: str
):
    expected = {uid.replace("-", "") for uid in await commit_events(pool, 150)}
    relays = [OutboxRelay(pool, broker, database_url, "probe", batch_size=20) for _ in range(3)]
    tasks = [asyncio.create_task(relay.run()) for relay in relays]
    try:
        ids = await received_ids(broker, len(expected))
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert sorted(ids) == sorted(expected)
    assert sum(relay.published for relay in relays) == 150
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0


async def test_events_wait_while_the_broker_is_unreachable_and_flow_when_it_returns(
    pool, broker: Broker, database_url: str, amqp_url: str, namespace: str
):
    await commit_events(pool, 5)
    unreachable = Broker("amqp://guest:guest@127.0.0.1:1/", broker.topology, publish_timeout_s=0.5)
    with pytest.raises(PublishFailed, match="5 of 5 not confirmed"):
        await OutboxRelay(pool, unreachable, database_url, "probe").publish_batch()
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 5

    # A relay whose broker drops away mid-run keeps the events and retries them.
    flaky = Broker(amqp_url, Topology(namespace=namespace, queues=(QUEUE,)), publish_timeout_s=1)
    await flaky.connect()
    await flaky.close()
    relay = OutboxRelay(pool, flaky, database_url, "probe", error_backoff_s=0.1)
    task = asyncio.create_task(relay.run())
    await asyncio.sleep(0.5)
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 5
    await flaky.connect()
    ids = await received_ids(broker, 5)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert len(ids) == len(set(ids)) == 5
