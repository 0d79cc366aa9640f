"""Reading and sending events on the test's broker namespace."""

import asyncio
from datetime import date
from typing import Any
from uuid import uuid4

import aio_pika

from shared.contracts.events import Event, GlPostingFailed, GlPostingSucceeded, StoreTotalsClosed
from shared.contracts.pos import POS_EVENTS
from shared.contracts.registry import EventRegistry
from shared.messaging.broker import Broker
from shared.messaging.topology import POSTING_QUEUE

REGISTRY = EventRegistry()
for model in POS_EVENTS:
    REGISTRY.register(model)

DAY = date(2026, 11, 27)


async def take(broker: Broker, queue_name: str, count: int, timeout: float = 15.0
               ) -> list[Event]:
    """Takes `count` events from a queue, then whatever else the queue holds already."""
    channel = await broker.connection.channel()
    queue = await channel.get_queue(queue_name)
    events: list[Event] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(events) < count and loop.time() < deadline:
        message = await queue.get(fail=False)
        if message is None:
            await asyncio.sleep(0.05)
            continue
        events.append(REGISTRY.parse(message.body))
        await message.ack()
    while (message := await queue.get(fail=False)) is not None:
        events.append(REGISTRY.parse(message.body))
        await message.ack()
    await channel.close()
    return events


async def closed_events(broker: Broker, count: int, totals: Any = None
                        ) -> list[StoreTotalsClosed]:
    """Takes `count` store-totals-closed events. Given the running `totals`, then every
    other one it has written so far: once its outbox holds no unpublished event, each
    event written is in the queue (published with confirms), so nothing is waited for
    that might not come."""
    name = broker.topology.queue_name(POSTING_QUEUE)
    events = await take(broker, name, count)
    if totals is not None:
        await all_published(totals)
        events += await take(broker, name, 0)
    assert all(isinstance(e, StoreTotalsClosed) for e in events)
    return events  # type: ignore[return-value]


async def all_published(totals: Any, timeout: float = 15.0) -> None:
    """Waits until totals' outbox holds no event waiting to be published."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while await totals.wiring.pool.fetchval(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL"):
        assert loop.time() < deadline, "totals' outbox still holds unpublished events"
        await asyncio.sleep(0.02)


async def no_more_closed_events(totals: Any, broker: Broker, taken: int = 0) -> None:
    """Nothing beyond the `taken` store-totals-closed events was published or ever will
    be: every event goes out through the outbox, so the outbox holding no more rows than
    that is the proof (no waiting for something not to happen). Whatever the queue still
    holds is read too, to show the broker agrees."""
    written = await totals.wiring.pool.fetchval(
        "SELECT count(*) FROM outbox WHERE event_type = 'store-totals-closed'")
    assert written == taken, f"{written - taken} more store-totals-closed in the outbox"
    assert await closed_events(broker, 0, totals) == []


async def probe_queue(broker: Broker, routing_key: str) -> str:
    """A queue of the test's own bound to one event type, deleted with the connection
    (exclusive: a queue that never had a consumer outlives its connection otherwise)."""
    channel = await broker.connection.channel()
    queue = await channel.declare_queue(f"probe-{uuid4().hex[:8]}", exclusive=True,
                                        durable=False)
    exchange = await channel.get_exchange(broker.topology.events_exchange)
    await queue.bind(exchange, routing_key=routing_key)
    return queue.name


def succeeded(closed: StoreTotalsClosed, already: bool = False) -> GlPostingSucceeded:
    return GlPostingSucceeded(
        correlation_id=closed.correlation_id, causation_id=str(closed.event_id),
        store_id=closed.store_id, business_date=closed.business_date,
        revision=closed.revision, tenant_id=closed.tenant_id, journal_id=uuid4(),
        already_posted=already)


def failed(closed: StoreTotalsClosed, errors: list, retryable: bool = False
           ) -> GlPostingFailed:
    return GlPostingFailed(
        correlation_id=closed.correlation_id, causation_id=str(closed.event_id),
        store_id=closed.store_id, business_date=closed.business_date,
        revision=closed.revision, tenant_id=closed.tenant_id, errors=errors,
        retryable=retryable)


__all__ = ["DAY", "aio_pika", "closed_events", "failed", "no_more_closed_events", "probe_queue",
           "succeeded", "take"]
