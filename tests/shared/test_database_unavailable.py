"""A request that finds the database refusing connections gets a 503 with Retry-After,
not a 500: PostgreSQL really refuses here (a role allowed no connections)."""

from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from shared.web import answer_503_when_the_database_is_unavailable


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


async def test_a_refused_connection_is_a_503_with_retry_after(refused_dsn: str) -> None:
    app = FastAPI()
    answer_503_when_the_database_is_unavailable(app, retry_after_s=7)

    @app.get("/day")
    async def day() -> dict[str, str]:
        connection = await asyncpg.connect(refused_dsn)
        await connection.close()
        return {"status": "read"}

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/day")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "7"
    assert response.json()["reason"] == "TooManyConnectionsError"
