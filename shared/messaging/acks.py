"""Acks a consumer's deliveries in as few frames as the order they finish in allows.

A handled delivery is acked at the latest one loop turn later: every delivery of the
channel up to the highest finished one with nothing unfinished before it, by one
`basic.ack` with `multiple` set (AMQP 0-9-1: it acknowledges every outstanding delivery
up to and including its tag, https://www.rabbitmq.com/docs/confirms#consumer-acks-multiple-parameter).
Deliveries finished behind an unfinished one are acked one by one after `hold_s`, so a
slow delivery never keeps the rest from being acked (nor the prefetch window full).

Every frame costs a write to the socket and work in the broker: acked one by one, the
acks were half of the frames services sent to RabbitMQ.
"""

import asyncio
import contextlib
import logging

from aio_pika.abc import AbstractIncomingMessage

log = logging.getLogger(__name__)


class ChannelAcks:
    """The deliveries of one channel (whose tags count 1, 2, 3, ... from its opening)."""

    def __init__(self, hold_s: float = 0.05, most_kept: int = 10_000) -> None:
        self.hold_s = hold_s
        # Deliveries settled behind one that never finishes (a handler that hangs) are
        # forgotten past this many: the floor then stays below them for good, and what
        # follows is acked alone, never by a `multiple` ack.
        self.most_kept = most_kept
        # Every delivery below `_floor` is settled; `_settled` holds those above it.
        self._floor = 1
        self._settled: set[int] = set()
        # Finished deliveries above the floor whose ack has not been sent.
        self._waiting: dict[int, AbstractIncomingMessage] = {}
        # The highest finished delivery below the floor that still needs its ack.
        self._due: AbstractIncomingMessage | None = None
        self._flush_soon: asyncio.Handle | None = None
        self._hold: asyncio.TimerHandle | None = None
        self._sending: set[asyncio.Task[None]] = set()

    def finished(self, message: AbstractIncomingMessage) -> None:
        """The delivery's outcome is recorded: it is to be acked."""
        self._waiting[_tag(message)] = message
        self._settle(_tag(message))

    def returned(self, message: AbstractIncomingMessage) -> None:
        """The delivery was settled otherwise (nacked): it is not to be acked."""
        self._settle(_tag(message))

    def _settle(self, tag: int) -> None:
        self._settled.add(tag)
        while self._floor in self._settled:
            self._settled.remove(self._floor)
            below = self._waiting.pop(self._floor, None)
            if below is not None:
                self._due = below
            self._floor += 1
        if len(self._settled) > self.most_kept:
            log.warning("delivery %d has not finished behind %d others: acking one by one",
                        self._floor, len(self._settled))
            self._settled &= self._waiting.keys()
        if self._flush_soon is None:
            self._flush_soon = asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_soon = None
        self._send_due()
        if self._hold is None and self._waiting:
            self._hold = asyncio.get_running_loop().call_later(self.hold_s, self._ack_held)

    def _send_due(self) -> None:
        if self._due is not None:
            self._send(self._due, multiple=True)
            self._due = None

    def _ack_held(self) -> None:
        """Acks alone what has finished behind a delivery that has not."""
        self._hold = None
        for message in self._waiting.values():
            self._send(message, multiple=False)
        self._waiting.clear()

    def _send(self, message: AbstractIncomingMessage, multiple: bool) -> None:
        task = asyncio.create_task(self._ack(message, multiple))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    @staticmethod
    async def _ack(message: AbstractIncomingMessage, multiple: bool) -> None:
        try:
            await message.ack(multiple=multiple)
        except Exception as exc:
            # The channel closed: the broker delivers its unacked messages again, and
            # handlers take a delivery twice without doing its work twice.
            log.warning("could not ack up to delivery %s: %r", message.delivery_tag, exc)

    async def close(self) -> None:
        """Sends every ack that is due or held, and waits until they are written."""
        for handle in (self._flush_soon, self._hold):
            if handle is not None:
                handle.cancel()
        self._flush_soon = None
        self._send_due()
        self._ack_held()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._sending)


def _tag(message: AbstractIncomingMessage) -> int:
    assert message.delivery_tag is not None  # only deliveries that need an ack come here
    return message.delivery_tag
