"""A robust connection with a confirming publisher.

Every publish waits for the broker's confirm and is bounded by a timeout: aio-pika can
hang a publish while a robust connection reconnects (aio-pika #636), and a caller that
times out must be free to retry (the outbox does).
"""

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, cast

import aio_pika
import aiormq
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractRobustConnection,
    DeliveryMode,
)

from shared.contracts.events import Event
from shared.messaging.topology import ConsumerQueue, Topology, declare

log = logging.getLogger(__name__)

DEAD_REASON_HEADER = "x-dead-reason"
ATTEMPT_HEADER = "x-attempt"


# aiormq queues at most 10 frames per connection for its socket writer
# (`aiormq.Connection.FRAME_BUFFER_SIZE`); past that a publish waits for the writer, and
# the next for the channel's lock, one event-loop pass each. In a service busy serving
# requests a pass takes milliseconds, and a relay batch of 200 events waited through
# nearly 200 of them. With 256 a batch fits (at most ~1 MB of frames queued).
# 200 confirmed publishes beside a loop busy in 5 ms bursts: 1.39 s with 10, 0.11 s
# with 256 (medians, A/B, 2026-12-04, 2 cores, `python -m bench.frame_buffer`;
# docs/performance.md, "The frame buffer").
FRAME_BUFFER_SIZE = 256


class PublishFailed(Exception):
    """The broker did not confirm a publish in time; the caller must retry it."""


class Broker:
    def __init__(self, url: str, topology: Topology, publish_timeout_s: float = 10.0,
                 frame_buffer_size: int = FRAME_BUFFER_SIZE) -> None:
        self.url = url
        self.topology = topology
        self.publish_timeout_s = publish_timeout_s
        self.frame_buffer_size = frame_buffer_size
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._events: AbstractExchange | None = None
        self._dlx: AbstractExchange | None = None

    async def connect(self) -> None:
        # aiormq reads the size from its class when a connection (or a robust
        # reconnection) is made and takes no argument for it: a process-wide setting.
        aiormq.Connection.FRAME_BUFFER_SIZE = self.frame_buffer_size
        self._connection = await aio_pika.connect_robust(self.url)
        self._channel = await self._connection.channel(publisher_confirms=True)
        self._events = await declare(self._channel, self.topology)
        self._dlx = await self._channel.get_exchange(self.topology.dead_letter_exchange)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    @property
    def connection(self) -> AbstractRobustConnection:
        if self._connection is None:
            raise RuntimeError("broker not connected")
        return self._connection

    @property
    def is_connected(self) -> bool:
        return self._connection is not None and not self._connection.is_closed

    async def publish(self, event: Event) -> None:
        event_type: str = event.event_type  # type: ignore[attr-defined]
        await self.publish_body(
            routing_key=event_type,
            body=event.model_dump_json().encode(),
            message_id=str(event.event_id),
            event_type=event_type,
            correlation_id=event.correlation_id,
        )

    async def publish_body(
        self,
        routing_key: str,
        body: bytes,
        message_id: str | None = None,
        event_type: str | None = None,
        correlation_id: str | None = None,
        headers: Mapping[str, Any] | None = None,
    ) -> None:
        """Publishes a serialised event to the events exchange, waiting for the confirm."""
        message = aio_pika.Message(
            body,
            content_type="application/json",
            delivery_mode=DeliveryMode.PERSISTENT,
            message_id=message_id,
            type=event_type,
            correlation_id=correlation_id,
            headers=dict(headers or {}),
        )
        await self._confirmed(self._exchange(self._events).name, message, routing_key)

    async def publish_to_queue(self, queue_name: str, message: aio_pika.Message) -> None:
        """Puts a message straight into a queue (retry queues) through the default exchange."""
        await self._confirmed("", message, queue_name)

    async def dead_letter(self, event: Event, reason: str, queue: ConsumerQueue) -> None:
        """Puts `event` on `queue`'s dead-letter queue, with the reason an operator reads."""
        event_type: str = event.event_type  # type: ignore[attr-defined]
        message = aio_pika.Message(
            event.model_dump_json().encode(), content_type="application/json",
            delivery_mode=DeliveryMode.PERSISTENT, message_id=str(event.event_id),
            type=event_type, correlation_id=event.correlation_id,
            headers={DEAD_REASON_HEADER: reason[:2000]},
        )
        await self.dead_letter_message(self.topology.queue_name(queue), message)

    async def dead_letter_message(self, queue_name: str, message: aio_pika.Message) -> None:
        """Dead-letters a message as it arrived (one that may not even parse)."""
        await self._confirmed(self._exchange(self._dlx).name, message, queue_name)

    async def _confirmed(
        self, exchange: str, message: aio_pika.Message, routing_key: str
    ) -> None:
        try:
            async with asyncio.timeout(self.publish_timeout_s):
                channel = cast(aiormq.Channel,
                               await self._require_channel().get_underlay_channel())
                # wait=False: the channel's lock is held only to queue the frames, not
                # until the socket has written them. aio-pika waits for that write under
                # the lock, so 200 publishes side by side took turns, one event-loop pass
                # each: with the loop busy serving closes, a relay batch took 7 s.
                # The broker's confirm is still awaited.
                await channel.basic_publish(
                    message.body, exchange=exchange, routing_key=routing_key,
                    properties=message.properties, mandatory=False, wait=False,
                )
        except (TimeoutError, aio_pika.exceptions.AMQPError, ConnectionError,
                aiormq.exceptions.ChannelInvalidStateError) as exc:  # a channel being reopened
            raise PublishFailed(f"publish to {routing_key!r} not confirmed: {exc!r}") from exc

    def _exchange(self, exchange: AbstractExchange | None) -> AbstractExchange:
        if exchange is None:
            raise RuntimeError("broker not connected")
        return exchange

    def _require_channel(self) -> AbstractChannel:
        if self._channel is None:
            raise RuntimeError("broker not connected")
        return self._channel
