"""A request that finds the database refusing connections gets a 503 with Retry-After,
not a 500: PostgreSQL really refuses here (a role allowed no connections)."""

from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from shared.web import answer_503_when_the_database_is_unavailable
from tests.support.proxy import CuttableProxy


@pytest.fixture
async def refused_dsn(database_url: str, unique: str) -> AsyncIterator[str]:
    role = f"refused_{unique}"
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(
            f"CREATE ROLE \"{role}\" LOGIN PASSWORD 'refused' CONNECTION LIMIT 0")
        parts = urlsplit(database_url)
        netloc = f"{role}:refused@{parts.hostname}:{parts.port or 5432}"
        yield urlunsplit(parts._replace(netloc=netloc))
    finally:
        await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        await admin.close()


def _app_reading(dsn: str) -> FastAPI:
    app = FastAPI()
    answer_503_when_the_database_is_unavailable(app, retry_after_s=7)

    @app.get("/day")
    async def day() -> dict[str, str]:
        connection = await asyncpg.connect(dsn)
        await connection.close()
        return {"status": "read"}

    return app


async def _get_day(app: FastAPI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get("/day")


async def test_a_refused_connection_is_a_503_with_retry_after(refused_dsn: str) -> None:
    response = await _get_day(_app_reading(refused_dsn))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "7"
    assert response.json()["reason"] == "TooManyConnectionsError"


async def test_a_database_that_is_down_is_a_503_too() -> None:
    # Nothing listens on port 1: the connection is refused as by a stopped PostgreSQL.
    response = await _get_day(_app_reading("postgresql://postgres@127.0.0.1:1/postgres"))
    assert response.status_code == 503
    assert response.json()["reason"] == "ConnectionRefusedError"


async def test_a_connection_reset_while_connecting_is_a_503_too() -> None:
    # A proxy before PostgreSQL that accepts and drops every connection, as a database
    # restarting behind a load balancer does.
    proxy = await CuttableProxy("127.0.0.1", 9).start()
    proxy.cut()
    try:
        response = await _get_day(
            _app_reading(f"postgresql://postgres@127.0.0.1:{proxy.port}/postgres"))
    finally:
        await proxy.stop()
    assert response.status_code == 503
    assert response.json()["reason"] == "ConnectionResetError"
