"""Real RabbitMQ and PostgreSQL for every test, each test isolated by its own names."""

import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import pytest

from shared.db import drop_database, ensure_database
from shared.messaging import topology as topo
from tests.support.infra import amqp_server, postgres_server


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    with amqp_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
async def database_url(postgres_url: str, unique: str) -> AsyncIterator[str]:
    """A new, empty database for this test; dropped afterwards."""
    dsn = urlunsplit(urlsplit(postgres_url)._replace(path=f"/glbridge_test_{unique}"))
    await ensure_database(dsn)
    yield dsn
    await drop_database(dsn)


@pytest.fixture
async def namespace(amqp_url: str, unique: str) -> AsyncIterator[str]:
    """A broker namespace of this test's own; its queues and exchanges are deleted after."""
    name = f"test-{unique}"
    yield name
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        await topo.delete(channel, topo.topology(name))
