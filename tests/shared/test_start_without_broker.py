"""Every service starts while RabbitMQ is unreachable: it answers /healthz, its /readyz
names the broker, and once the broker answers it becomes ready and consumes. Real
processes; the broker is cut off by a proxy in front of it (the shared RabbitMQ keeps
running)."""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import aio_pika
import httpx
import pytest

from glbridge.processes import ServiceProcess, free_port
from glbridge.system import Ports, System
from shared.messaging.topology import (
    POSTING_CONNECTIONS_QUEUE,
    POSTING_QUEUE,
    TOTALS_POS_QUEUE,
    TOTALS_RESULTS_QUEUE,
    ConsumerQueue,
    topology,
)
from tests.support.proxy import CuttableProxy

# What each service consumes once the broker is back (auth only publishes).
CONSUMES: dict[str, tuple[ConsumerQueue, ...]] = {
    "auth": (),
    "totals": (TOTALS_RESULTS_QUEUE, TOTALS_POS_QUEUE),
    "posting": (POSTING_QUEUE, POSTING_CONNECTIONS_QUEUE),
}
# Short, so start-up gives up waiting for the broker at once.
BROKER_WAIT = {"AUTH_BROKER_WAIT_S": "0.5", "TOTALS_BROKER_WAIT_S": "0.5",
               "POSTING_BROKER_WAIT_S": "0.5"}
# Generous: the broker is retried every few seconds and the machine may be busy.
DEADLINE_S = 90.0


@pytest.fixture
async def cut_broker(amqp_url: str) -> AsyncIterator[tuple[CuttableProxy, str]]:
    """A proxy in front of RabbitMQ, cut: (the proxy, an AMQP URL through it)."""
    parts = urlsplit(amqp_url)
    proxy = await CuttableProxy(parts.hostname or "127.0.0.1", parts.port or 5672).start()
    proxy.cut()
    netloc = f"{parts.username or 'guest'}:{parts.password or 'guest'}@127.0.0.1:{proxy.port}"
    try:
        yield proxy, parts._replace(netloc=netloc).geturl()
    finally:
        await proxy.stop()


def _service(name: str, database_url: str, via_proxy: str, namespace: str,
             log_dir: Path) -> ServiceProcess:
    system = System(
        ports=Ports(auth=free_port(), totals=free_port(), posting=free_port(),
                    sandbox=free_port()),
        database_url=database_url, amqp_url=via_proxy, namespace=namespace,
        extra_env=BROKER_WAIT, log_dir=log_dir,
    )
    return system.service(name)


async def _readiness(client: httpx.AsyncClient) -> httpx.Response:
    return await client.get("/readyz")


async def _until_ready(client: httpx.AsyncClient) -> httpx.Response:
    deadline = time.monotonic() + DEADLINE_S
    while (response := await _readiness(client)).status_code != 200:
        assert time.monotonic() < deadline, response.text
        await asyncio.sleep(0.2)
    return response


async def _consumers(amqp_url: str, namespace: str, queue: ConsumerQueue) -> int:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(topology(namespace).queue_name(queue),
                                               passive=True)
        count: int = declared.declaration_result.consumer_count or 0
        return count


async def _until_consumed(amqp_url: str, namespace: str, queue: ConsumerQueue) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while await _consumers(amqp_url, namespace, queue) < 1:
        assert time.monotonic() < deadline, f"nobody consumes {queue}"
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("name", ["auth", "totals", "posting"])
async def test_a_service_starts_without_the_broker_and_serves_once_it_is_back(
        name: str, database_url: str, amqp_url: str, namespace: str,
        cut_broker: tuple[CuttableProxy, str], tmp_path: Path) -> None:
    proxy, via_proxy = cut_broker
    service = _service(name, database_url, via_proxy, namespace, tmp_path)
    service.spawn()
    try:
        # In a thread: the proxy runs on this event loop and must keep refusing meanwhile.
        await asyncio.to_thread(service.wait_ready, "/healthz", DEADLINE_S)
        async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
            waiting = await _readiness(client)
            assert waiting.status_code == 503, waiting.text
            assert set(waiting.json()["failures"]) == {"broker"}

            proxy.restore()
            ready = await _until_ready(client)
            assert ready.json()["checks"] == ["broker", "database"]
            for queue in CONSUMES[name]:
                await _until_consumed(amqp_url, namespace, queue)
            assert (await client.get("/healthz")).status_code == 200
    finally:
        await asyncio.to_thread(service.stop)
