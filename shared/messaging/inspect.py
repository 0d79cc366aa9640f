"""What an operator needs from the broker over AMQP alone: depths, dead letters, replay."""

import asyncio
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, DeliveryMode

from shared.messaging.broker import ATTEMPT_HEADER, DEAD_REASON_HEADER, Broker
from shared.messaging.topology import ConsumerQueue, Topology


@dataclass(frozen=True)
class QueueStats:
    name: str
    messages: int
    consumers: int


@dataclass(frozen=True)
class DeadLetter:
    queue: str
    message_id: str | None
    event_type: str | None
    reason: str
    correlation_id: str | None
    body: str


def _all_queue_names(topo: Topology, queue: ConsumerQueue) -> list[str]:
    names = [topo.queue_name(queue), topo.dead_letter_queue_name(queue)]
    return names + [topo.retry_queue_name(queue, delay) for delay in queue.retry_delays_s]


async def queue_stats(channel: AbstractChannel, topo: Topology) -> list[QueueStats]:
    stats = []
    for queue in topo.queues:
        for name in _all_queue_names(topo, queue):
            declared = await channel.declare_queue(name, passive=True)
            result = declared.declaration_result
            stats.append(QueueStats(name, result.message_count or 0, result.consumer_count or 0))
    return stats


def _dead_letter(queue: str, message: AbstractIncomingMessage) -> DeadLetter:
    headers: dict[str, Any] = dict(message.headers or {})
    reason = headers.get(DEAD_REASON_HEADER)
    if reason is None and "x-death" in headers:
        reason = "delivery limit reached (the consumer failed on it repeatedly)"
    return DeadLetter(
        queue=queue,
        message_id=message.message_id,
        event_type=message.type,
        reason=str(reason or "unknown"),
        correlation_id=message.correlation_id,
        body=message.body[:2000].decode(errors="replace"),
    )


async def _drain(channel: AbstractChannel, name: str, limit: int) -> list[AbstractIncomingMessage]:
    queue = await channel.get_queue(name)
    messages: list[AbstractIncomingMessage] = []
    while len(messages) < limit:
        message = await queue.get(no_ack=False, fail=False)
        if message is None:
            break
        messages.append(message)
    return messages


async def list_dead_letters(
    connection: aio_pika.abc.AbstractConnection, topo: Topology, limit: int = 100
) -> list[DeadLetter]:
    """Reads dead letters without removing them (each is returned to its queue)."""
    found: list[DeadLetter] = []
    channel = await connection.channel()
    try:
        for queue in topo.queues:
            name = topo.dead_letter_queue_name(queue)
            messages = await _drain(channel, name, limit)
            found += [_dead_letter(topo.queue_name(queue), m) for m in messages]
            await asyncio.gather(*(m.nack(requeue=True) for m in messages))
    finally:
        await channel.close()
    return found


async def replay_dead_letters(
    broker: Broker, queue: ConsumerQueue, message_id: str | None = None, limit: int = 10_000
) -> int:
    """Moves dead letters back into their consumer queue (all, or the one with this id)."""
    topo = broker.topology
    channel = await broker.connection.channel()
    replayed = 0
    try:
        for message in await _drain(channel, topo.dead_letter_queue_name(queue), limit):
            if message_id is not None and message.message_id != message_id:
                await message.nack(requeue=True)
                continue
            await broker.publish_to_queue(topo.queue_name(queue), _fresh_copy(message))
            await message.ack()
            replayed += 1
    finally:
        await channel.close()
    return replayed


def _fresh_copy(message: AbstractIncomingMessage) -> aio_pika.Message:
    drop = {DEAD_REASON_HEADER, ATTEMPT_HEADER, "x-death", "x-dead-queue", "x-last-error"}
    headers = {k: v for k, v in (message.headers or {}).items() if k not in drop}
    headers["x-replayed"] = True
    return aio_pika.Message(
        message.body,
        content_type=message.content_type,
        delivery_mode=DeliveryMode.PERSISTENT,
        message_id=message.message_id,
        type=message.type,
        correlation_id=message.correlation_id,
        headers=headers,
    )
