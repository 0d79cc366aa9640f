"""Listing and replaying dead letters against a real RabbitMQ."""

import asyncio

from shared.contracts.events import Event
from shared.contracts.registry import EventRegistry
from shared.messaging import inspect
from shared.messaging.broker import Broker
from shared.messaging.consumer import Consumer, Reject
from tests.shared.conftest import QUEUE, failed_event


async def test_dead_letters_are_listed_with_reasons_and_replayed(broker: Broker):
    seen: list[Event] = []
    reject = True

    async def handle(event: Event) -> None:
        seen.append(event)
        if reject:
            raise Reject("account code 9999 unknown")

    consumer = Consumer(broker, QUEUE, EventRegistry(), handle)
    await consumer.start()
    event = failed_event("S9")
    await broker.publish(event)
    for _ in range(100):
        letters = await inspect.list_dead_letters(broker.connection, broker.topology)
        if letters:
            break
        await asyncio.sleep(0.05)
    assert [(d.message_id, d.reason) for d in letters] == [
        (str(event.event_id), "account code 9999 unknown")
    ]
    # Listing leaves them in place.
    assert len(await inspect.list_dead_letters(broker.connection, broker.topology)) == 1

    reject = False
    assert await inspect.replay_dead_letters(broker, QUEUE) == 1
    for _ in range(100):
        if len(seen) == 2:
            break
        await asyncio.sleep(0.05)
    assert [e.event_id for e in seen] == [event.event_id, event.event_id]
    assert await inspect.list_dead_letters(broker.connection, broker.topology) == []
    await consumer.stop()
