"""The whole broker topology, declared in one place.

- one durable topic exchange carries every event, routed by its event type;
- each consumer has a quorum queue with a delivery limit, so a message that keeps
  crashing its consumer ends in that queue's dead-letter queue instead of looping;
- a direct dead-letter exchange routes to one dead-letter queue per consumer queue;
- retry queues hold a message for a delay (message TTL) and then dead-letter it back
  into its consumer queue, so nobody sleeps on a held delivery.
"""

from dataclasses import dataclass, field

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange


@dataclass(frozen=True)
class ConsumerQueue:
    name: str
    routing_keys: tuple[str, ...]
    retry_delays_s: tuple[float, ...] = ()
    delivery_limit: int = 10


@dataclass(frozen=True)
class Topology:
    """Names under a namespace, so separate deployments (and test runs) never cross."""

    namespace: str = "glbridge"
    queues: tuple[ConsumerQueue, ...] = field(default_factory=tuple)

    @property
    def events_exchange(self) -> str:
        return f"{self.namespace}.events"

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.namespace}.dlx"

    def queue_name(self, queue: ConsumerQueue) -> str:
        return f"{self.namespace}.{queue.name}"

    def dead_letter_queue_name(self, queue: ConsumerQueue) -> str:
        return f"{self.queue_name(queue)}.dead"

    def retry_queue_name(self, queue: ConsumerQueue, delay_s: float) -> str:
        return f"{self.queue_name(queue)}.retry.{int(delay_s * 1000)}ms"

    def queue(self, name: str) -> ConsumerQueue:
        for queue in self.queues:
            if queue.name == name:
                return queue
        raise KeyError(name)


POSTING_RESULTS = (
    "gl-posting-succeeded",
    "gl-posting-failed",
    "xero-connection-needs-reauth",
    "xero-connection-restored",
)

POSTING_QUEUE = ConsumerQueue(
    "posting.store-totals-closed",
    ("store-totals-closed",),
    retry_delays_s=(1, 5, 15, 60, 300, 900),
)
POSTING_CONNECTIONS_QUEUE = ConsumerQueue(
    "posting.xero-connected", ("xero-connected",), retry_delays_s=(5, 30)
)
TOTALS_RESULTS_QUEUE = ConsumerQueue(
    "totals.posting-results", POSTING_RESULTS, retry_delays_s=(1, 5, 30)
)
TOTALS_POS_QUEUE = ConsumerQueue(
    "totals.pos-requests",
    ("pos-day-closed", "pos-reprint-requested"),
    retry_delays_s=(1, 5, 30),
)

ALL_QUEUES = (POSTING_QUEUE, POSTING_CONNECTIONS_QUEUE, TOTALS_RESULTS_QUEUE, TOTALS_POS_QUEUE)


def topology(namespace: str = "glbridge") -> Topology:
    return Topology(namespace=namespace, queues=ALL_QUEUES)


async def declare(channel: AbstractChannel, topo: Topology) -> AbstractExchange:
    """Declares everything (idempotent); returns the events exchange."""
    events = await channel.declare_exchange(
        topo.events_exchange, aio_pika.ExchangeType.TOPIC, durable=True
    )
    dlx = await channel.declare_exchange(
        topo.dead_letter_exchange, aio_pika.ExchangeType.DIRECT, durable=True
    )
    for queue in topo.queues:
        name = topo.queue_name(queue)
        dead = await channel.declare_queue(
            topo.dead_letter_queue_name(queue), durable=True, arguments={"x-queue-type": "quorum"}
        )
        await dead.bind(dlx, routing_key=name)
        main = await channel.declare_queue(
            name,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-delivery-limit": queue.delivery_limit,
                "x-dead-letter-exchange": topo.dead_letter_exchange,
                "x-dead-letter-routing-key": name,
            },
        )
        for key in queue.routing_keys:
            await main.bind(events, routing_key=key)
        for delay in queue.retry_delays_s:
            await channel.declare_queue(
                topo.retry_queue_name(queue, delay),
                durable=True,
                arguments={
                    "x-message-ttl": int(delay * 1000),
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": name,
                },
            )
    return events


async def delete(channel: AbstractChannel, topo: Topology) -> None:
    """Removes a namespace's queues and exchanges (test clean-up)."""
    for queue in topo.queues:
        names = [topo.queue_name(queue), topo.dead_letter_queue_name(queue)]
        names += [topo.retry_queue_name(queue, d) for d in queue.retry_delays_s]
        for name in names:
            await channel.queue_delete(name)
    await channel.exchange_delete(topo.events_exchange)
    await channel.exchange_delete(topo.dead_letter_exchange)
