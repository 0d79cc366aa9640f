"""Consumes one queue: parse, handle, then ack; retries through delay queues.

The handler decides an event's fate and must have recorded and published its outcome
before it returns: only then is the delivery acked (together with its neighbours:
`acks.py`). A message no contract describes is dead-lettered with the reason in its
headers and the consumer carries on.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, DeliveryMode
from aio_pika.exceptions import ChannelInvalidStateError
from aiormq.abc import AbstractChannel as AmqpChannel

from shared.contracts.events import Event
from shared.contracts.registry import EventRegistry, UnreadableMessage
from shared.logging import correlation_id
from shared.messaging.acks import ChannelAcks
from shared.messaging.broker import ATTEMPT_HEADER, DEAD_REASON_HEADER, Broker
from shared.messaging.topology import ConsumerQueue
from shared.metrics import EVENTS_CONSUMED

log = logging.getLogger(__name__)

Handler = Callable[[Event], Awaitable[None]]
GiveUp = Callable[[Event, str], Awaitable[None]]


class RetryLater(Exception):
    """A transient failure: try the event again after the next delay."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Reject(Exception):
    """The event can never succeed: dead-letter it with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Consumer:
    def __init__(
        self,
        broker: Broker,
        queue: ConsumerQueue,
        registry: EventRegistry,
        handle: Handler,
        give_up: GiveUp | None = None,
        prefetch: int = 50,
    ) -> None:
        self.broker = broker
        self.queue = queue
        self.registry = registry
        self.handle = handle
        self.give_up = give_up
        self.prefetch = prefetch
        self.queue_name = broker.topology.queue_name(queue)
        self._channel: AbstractChannel | None = None
        # The acks of the channel that delivers (its deliveries numbered from 1: one
        # opened again after a lost connection starts over).
        self._acks: tuple[AmqpChannel, ChannelAcks] | None = None

    async def start(self) -> None:
        self._channel = await self.broker.connection.channel()
        await self._channel.set_qos(prefetch_count=self.prefetch)
        queue = await self._channel.get_queue(self.queue_name, ensure=True)
        await queue.consume(self._on_message)

    async def stop(self) -> None:
        if self._acks is not None:
            await self._acks[1].close()
        if self._channel is not None and not self._channel.is_closed:
            await self._channel.close()

    def _acks_of(self, message: AbstractIncomingMessage) -> ChannelAcks:
        channel = message.channel
        if self._acks is None or self._acks[0] is not channel:
            self._acks = (channel, ChannelAcks())
        return self._acks[1]

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            acks = self._acks_of(message)
        except ChannelInvalidStateError:
            return  # closed since it delivered: the broker delivers the message again
        try:
            await self._process(message)
        except Exception as exc:
            # Its retry or dead letter could not be published (PublishFailed: not routed
            # or not confirmed). Back to the queue, and only then passed over by the acks:
            # a `multiple` ack covers what is still outstanding, which it no longer is.
            log.warning("could not settle message %s (%r); returning it", message.message_id,
                        exc)
            try:
                await message.nack(requeue=True)
            except Exception:
                return  # the channel is gone, and the message with it back to the queue
            acks.returned(message)
        else:
            acks.finished(message)

    async def _process(self, message: AbstractIncomingMessage) -> None:
        try:
            event = self.registry.parse(message.body, message.type)
        except UnreadableMessage as exc:
            await self._dead_letter(message, exc.reason)
            EVENTS_CONSUMED.labels(self.queue.name, message.type or "?", "unreadable").inc()
            return
        token = correlation_id.set(event.correlation_id)
        try:
            await self._handle(event, message)
        finally:
            correlation_id.reset(token)

    async def _handle(self, event: Event, message: AbstractIncomingMessage) -> None:
        outcome = "ack"
        try:
            await self.handle(event)
        except RetryLater as exc:
            outcome = await self._retry(event, message, exc.reason)
        except Reject as exc:
            outcome = "dead-letter"
            await self._dead_letter(message, exc.reason)
        except Exception as exc:
            # A bug or an outage of our own (database down): retry, never lose it.
            log.exception("handler failed on %s", event.event_id)
            outcome = await self._retry(event, message, f"{type(exc).__name__}: {exc}")
        event_type: str = event.event_type  # type: ignore[attr-defined]
        EVENTS_CONSUMED.labels(self.queue.name, event_type, outcome).inc()

    async def _retry(self, event: Event, message: AbstractIncomingMessage, reason: str) -> str:
        attempt = _attempt(message) + 1
        delays = self.queue.retry_delays_s
        if attempt > len(delays):
            if self.give_up is not None:
                await self.give_up(event, reason)
            await self._dead_letter(message, f"gave up after {attempt} attempts: {reason}")
            return "dead-letter"
        delay_queue = self.broker.topology.retry_queue_name(self.queue, delays[attempt - 1])
        log.info("retrying %s in %ss (attempt %d): %s", event.event_id, delays[attempt - 1],
                 attempt, reason)
        await self.broker.publish_to_queue(
            delay_queue, _copy(message, {ATTEMPT_HEADER: attempt, "x-last-error": reason[:500]})
        )
        return "retry"

    async def _dead_letter(self, message: AbstractIncomingMessage, reason: str) -> None:
        log.warning("dead-lettering message %s from %s: %s", message.message_id,
                    self.queue_name, reason)
        await self.broker.dead_letter_message(
            self.queue_name,
            _copy(message, {DEAD_REASON_HEADER: reason[:2000], "x-dead-queue": self.queue_name}),
        )


def _attempt(message: AbstractIncomingMessage) -> int:
    value = (message.headers or {}).get(ATTEMPT_HEADER, 0)
    return value if isinstance(value, int) else 0


def _copy(message: AbstractIncomingMessage, extra_headers: dict[str, Any]) -> aio_pika.Message:
    headers: dict[str, Any] = dict(message.headers or {})
    headers.update(extra_headers)
    return aio_pika.Message(
        message.body,
        content_type=message.content_type,
        delivery_mode=DeliveryMode.PERSISTENT,
        message_id=message.message_id,
        type=message.type,
        correlation_id=message.correlation_id,
        headers=headers,
    )
