"""A probe queue of the test's own on a real RabbitMQ."""

from datetime import date

import pytest

from shared.contracts.events import ErrorKind, GlPostingFailed, PostingError
from shared.messaging.broker import Broker
from shared.messaging.topology import ConsumerQueue, Topology

QUEUE = ConsumerQueue("probe", ("gl-posting-failed",), retry_delays_s=(0.2, 0.2))


def failed_event(store: str) -> GlPostingFailed:
    return GlPostingFailed(
        correlation_id=f"{store}:2026-11-24",
        store_id=store,
        business_date=date(2026, 11, 24),
        revision=1,
        errors=[PostingError(kind=ErrorKind.VALIDATION, message="test")],
        retryable=False,
    )


@pytest.fixture
async def broker(amqp_url: str, namespace: str):
    broker = Broker(amqp_url, Topology(namespace=namespace, queues=(QUEUE,)))
    await broker.connect()
    yield broker
    channel = await broker.connection.channel()
    for name in ("probe", "probe.dead", "probe.retry.200ms"):
        await channel.queue_delete(f"{namespace}.{name}")
    await broker.close()


