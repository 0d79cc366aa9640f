"""Acks in few frames: which deliveries a `multiple` ack may cover, and that none waits
on a slow neighbour; then the consumer on a real RabbitMQ."""

import asyncio
from typing import cast

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from shared.contracts.events import Event
from shared.contracts.registry import EventRegistry
from shared.messaging.acks import ChannelAcks
from shared.messaging.broker import Broker
from shared.messaging.consumer import Consumer, RetryLater
from tests.shared.conftest import QUEUE, failed_event

HOLD_S = 0.05


class Delivery:
    """What ChannelAcks uses of aio-pika's message: its tag and its ack (and the channel
    it came on, which the consumer looks at)."""

    def __init__(self, tag: int, sent: list[tuple[int, bool]], channel: object = None
                 ) -> None:
        self.delivery_tag = tag
        self.sent = sent
        self.channel = channel

    async def ack(self, multiple: bool = False) -> None:
        self.sent.append((self.delivery_tag, multiple))


def deliveries(count: int) -> tuple[list[AbstractIncomingMessage], list[tuple[int, bool]]]:
    sent: list[tuple[int, bool]] = []
    return [cast(AbstractIncomingMessage, Delivery(tag, sent))
            for tag in range(1, count + 1)], sent


async def turns(count: int = 3) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def test_deliveries_finished_in_one_turn_are_acked_by_one_frame():
    messages, sent = deliveries(20)
    acks = ChannelAcks(HOLD_S)
    for message in reversed(messages):  # in any order
        acks.finished(message)
    await turns()
    assert sent == [(20, True)]


async def test_a_delivery_not_finished_is_never_covered_by_a_multiple_ack():
    messages, sent = deliveries(4)
    acks = ChannelAcks(HOLD_S)
    acks.finished(messages[0])
    for message in messages[2:]:
        acks.finished(message)
    await turns()
    assert sent == [(1, True)]  # not up to 4: delivery 2 is still being handled
    await asyncio.sleep(HOLD_S * 3)
    assert sorted(sent[1:]) == [(3, False), (4, False)]  # held, then acked alone
    acks.finished(messages[1])
    await turns()
    assert sent[3:] == [(2, True)]  # covers only 2: 3 and 4 were acked already


async def test_a_returned_delivery_is_passed_over_but_not_acked():
    messages, sent = deliveries(3)
    acks = ChannelAcks(HOLD_S)
    acks.finished(messages[0])
    acks.returned(messages[1])  # nacked: no longer outstanding at the broker
    await turns()
    assert sent == [(1, True)]
    acks.finished(messages[2])
    await turns()
    assert sent[1:] == [(3, True)]


async def test_close_sends_what_is_due_and_held_and_waits_for_it():
    messages, sent = deliveries(3)
    acks = ChannelAcks(hold_s=60.0)
    acks.finished(messages[0])
    acks.finished(messages[2])
    await acks.close()
    assert sorted(sent) == [(1, True), (3, False)]


async def queued(broker: Broker) -> int:
    channel = await broker.connection.channel()
    try:
        queue = await channel.declare_queue(broker.topology.queue_name(QUEUE), passive=True)
        count = queue.declaration_result.message_count
        assert count is not None
        return count
    finally:
        await channel.close()


async def queued_once_returned(broker: Broker) -> int:
    """The queue's count once what a closed channel held is back. The broker returns it
    after the close is answered, so the count is read until it is not 0 and then holds."""
    count = last = -1
    for _ in range(100):
        last, count = count, await queued(broker)
        if count and count == last:
            break
        await asyncio.sleep(0.05)
    return count


async def consume_until(broker: Broker, handle, handled: list[Event], count: int) -> Consumer:
    consumer = Consumer(broker, QUEUE, EventRegistry(), handle)
    await consumer.start()
    for _ in range(200):
        if len(handled) >= count:
            break
        await asyncio.sleep(0.05)
    assert len(handled) >= count
    return consumer


async def test_every_delivery_handled_is_acked_and_none_comes_back(broker: Broker):
    handled: list[Event] = []

    async def handle(event: Event) -> None:
        await asyncio.sleep(0.01 * (len(handled) % 3))  # finishing out of order
        handled.append(event)

    await asyncio.gather(*(broker.publish(failed_event(f"A{i}")) for i in range(40)))
    consumer = await consume_until(broker, handle, handled, 40)
    await consumer.stop()  # its unacked deliveries would return to the queue
    assert await queued(broker) == 0
    assert len(handled) == 40


async def test_a_slow_delivery_returns_alone_when_the_consumer_stops(broker: Broker):
    release = asyncio.Event()
    handled: list[Event] = []
    first = failed_event("slow")

    async def handle(event: Event) -> None:
        if event.event_id == first.event_id:
            await release.wait()
        handled.append(event)

    await broker.publish(first)
    for i in range(5):
        await broker.publish(failed_event(f"B{i}"))
    consumer = await consume_until(broker, handle, handled, 5)
    await asyncio.sleep(0.3)  # past the hold: the five behind the slow one are acked
    channel = consumer._channel
    assert channel is not None
    await channel.close()  # as a lost connection: what is unacked goes back
    release.set()
    assert await queued_once_returned(broker) == 1
    back = await (await (await broker.connection.channel()).get_queue(
        broker.topology.queue_name(QUEUE))).get(no_ack=True)
    assert isinstance(back, aio_pika.abc.AbstractIncomingMessage)
    assert back.message_id == str(first.event_id)


async def test_behind_a_delivery_that_never_finishes_what_is_kept_stays_bounded():
    messages, sent = deliveries(40)
    acks = ChannelAcks(hold_s=0.01, most_kept=10)
    for message in messages[1:]:  # delivery 1 hangs
        acks.finished(message)
        await asyncio.sleep(0.02)  # each acked alone once held
    assert len(acks._settled) <= 10
    assert sorted(sent) == [(tag, False) for tag in range(2, 41)]
    acks.finished(messages[0])  # at last: acked alone, never past what was forgotten
    await turns()
    assert sent[-1] == (1, True)
    assert all(not multiple for tag, multiple in sent if tag > 1)


async def test_a_delivery_whose_retry_cannot_be_published_returns_to_the_queue(
        broker: Broker):
    seen: list[Event] = []

    async def handle(event: Event) -> None:
        seen.append(event)
        if len(seen) == 1:
            await broker._require_channel().close()  # the retry's publish fails
            raise RetryLater("xero unavailable")

    await broker.publish(failed_event("R1"))
    consumer = await consume_until(broker, handle, seen, 2)
    await consumer.stop()
    assert seen[0].event_id == seen[1].event_id  # delivered again, then acked
    assert await queued(broker) == 0


async def test_a_channel_opened_again_numbers_its_deliveries_afresh(broker: Broker):
    async def handle(event: Event) -> None:
        return None

    consumer = Consumer(broker, QUEUE, EventRegistry(), handle)
    old, new = object(), object()
    sent_old: list[tuple[int, bool]] = []
    sent_new: list[tuple[int, bool]] = []

    def on(channel: object, tag: int, sent: list[tuple[int, bool]]) -> AbstractIncomingMessage:
        return cast(AbstractIncomingMessage, Delivery(tag, sent, channel))

    # Delivery 1 of the old channel never finished (the connection was lost); 2 did.
    consumer._acks_of(on(old, 2, sent_old)).finished(on(old, 2, sent_old))
    # The channel is opened again, and its delivery 1 is another message.
    first_again = on(new, 1, sent_new)
    consumer._acks_of(first_again).finished(first_again)
    await turns()
    assert sent_new == [(1, True)]
    assert sent_old == []  # nothing acked on the old channel's count
