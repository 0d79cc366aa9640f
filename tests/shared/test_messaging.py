"""The shared consumer against a real RabbitMQ: dead letters, retries, acks."""

import asyncio
import uuid
from typing import cast

import aio_pika
import aiormq
import pytest

from shared.contracts.events import Event
from shared.contracts.registry import EventRegistry
from shared.messaging.broker import DEAD_REASON_HEADER, FRAME_BUFFER_SIZE, Broker, PublishFailed
from shared.messaging.consumer import Consumer, RetryLater
from tests.shared.conftest import QUEUE, failed_event


async def next_dead_letter(broker: Broker, timeout: float = 10.0) -> aio_pika.IncomingMessage:
    channel = await broker.connection.channel()
    queue = await channel.get_queue(broker.topology.dead_letter_queue_name(QUEUE))
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        message = await queue.get(fail=False)
        if message is not None:
            await message.ack()
            return message  # type: ignore[return-value]
        await asyncio.sleep(0.05)
    raise AssertionError("no dead letter arrived")


async def test_malformed_message_is_dead_lettered_and_the_next_one_processed(broker: Broker):
    handled: list[Event] = []
    done = asyncio.Event()

    async def handle(event: Event) -> None:
        handled.append(event)
        done.set()

    consumer = Consumer(broker, QUEUE, EventRegistry(), handle)
    await consumer.start()
    await broker.publish_body("gl-posting-failed", b"{not json", message_id="bad-1")
    await broker.publish_body(
        "gl-posting-failed", b'{"event_type": "gl-posting-failed", "schema_version": 99}'
    )
    good = failed_event("S1")
    await broker.publish(good)

    await asyncio.wait_for(done.wait(), 10)
    assert [e.event_id for e in handled] == [good.event_id]
    first, second = await next_dead_letter(broker), await next_dead_letter(broker)
    assert first.message_id == "bad-1"
    assert "not JSON" in str(first.headers[DEAD_REASON_HEADER])
    assert "unknown event 'gl-posting-failed' version 99" in str(
        second.headers[DEAD_REASON_HEADER])
    await consumer.stop()


async def test_transient_failure_is_retried_through_delay_queues_then_given_up(broker: Broker):
    attempts: list[uuid.UUID] = []
    given_up: list[str] = []

    async def handle(event: Event) -> None:
        attempts.append(event.event_id)
        raise RetryLater("xero unavailable")

    async def give_up(event: Event, reason: str) -> None:
        given_up.append(reason)

    consumer = Consumer(broker, QUEUE, EventRegistry(), handle, give_up=give_up)
    await consumer.start()
    event = failed_event("S2")
    await broker.publish(event)

    dead = await next_dead_letter(broker)
    assert attempts == [event.event_id] * 3  # first try plus two delayed retries
    assert given_up == ["xero unavailable"]
    assert "gave up after 3 attempts: xero unavailable" in str(dead.headers[DEAD_REASON_HEADER])
    await consumer.stop()


async def test_publishes_side_by_side_are_each_confirmed_and_delivered(broker: Broker):
    # More than aiormq's default frame queue (10) and than ours (256): they queue up, and
    # every one is still confirmed before publish returns.
    events = [failed_event(f"S{i}") for i in range(300)]
    await asyncio.gather(*(broker.publish(event) for event in events))
    channel = await broker.connection.channel()
    queue = await channel.declare_queue(broker.topology.queue_name(QUEUE), passive=True)
    assert queue.declaration_result.message_count == len(events)


async def test_the_connection_queues_as_many_frames_as_the_broker_sets(broker: Broker):
    # aiormq takes the size from its class when a connection is made, not as an argument.
    transport = broker.connection.transport
    assert transport is not None
    underlay = cast(aiormq.Connection, transport.connection)
    assert broker.frame_buffer_size == FRAME_BUFFER_SIZE > 10
    assert underlay.write_queue.maxsize == FRAME_BUFFER_SIZE


async def test_a_publish_on_a_closed_channel_fails_so_the_caller_retries(broker: Broker):
    await broker._require_channel().close()
    with pytest.raises(PublishFailed, match="not confirmed"):
        await broker.publish(failed_event("S3"))
