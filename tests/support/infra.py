"""Where the tests find RabbitMQ and PostgreSQL: environment, else local, else containers."""

import contextlib
import os
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

LOCAL_AMQP = "amqp://guest:guest@127.0.0.1:5672/"
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), 1.0):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def amqp_server() -> Iterator[str]:
    url = os.environ.get("AMQP_URL")
    if url:
        yield url
    elif _reachable(LOCAL_AMQP):
        yield LOCAL_AMQP
    else:
        from testcontainers.rabbitmq import RabbitMqContainer

        with RabbitMqContainer("rabbitmq:3.13-management") as container:
            host = container.get_container_host_ip()
            port = container.get_exposed_port(5672)
            yield f"amqp://guest:guest@{host}:{port}/"


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yields a DSN of the server's maintenance database; tests make their own databases."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
    elif _reachable(LOCAL_POSTGRES):
        yield LOCAL_POSTGRES
    else:
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as container:
            yield container.get_connection_url()
