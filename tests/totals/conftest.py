"""The totals service running in this test's process on a real port (uvicorn), with real
PostgreSQL and RabbitMQ; stores set up through the service's own repository or, where
the key check itself is under test, through the real auth service."""

import asyncio
import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from glbridge.processes import ServiceProcess, free_port
from services.totals.adapters.unit_of_work import PgTotalsUnitOfWork
from services.totals.domain.examples import example_store_setup
from services.totals.domain.records import ACTIVE, KeyRecord, SetupRecord, key_hash
from services.totals.domain.setup import StoreSetup
from services.totals.entrypoints.http.deps import Wiring
from services.totals.main import create_app
from services.totals.settings import TotalsSettings
from shared.messaging.broker import Broker
from shared.messaging.topology import topology


@dataclass
class RunningTotals:
    url: str
    client: httpx.AsyncClient
    wiring: Wiring
    settings: TotalsSettings

    async def add_store(self, store_id: str, auto_post: bool = True,
                        connection_id: uuid.UUID | None = None) -> str:
        """A store with the example setup and a key of its own (as a PUT would save it)."""
        api_key = "2RF:" + secrets.token_urlsafe(24)
        key = KeyRecord(key_hash(api_key), connection_id or uuid.uuid4(), uuid.uuid4(),
                        "Demo Rentals (US)", ACTIVE)
        await self.save_setup(store_id, example_store_setup(auto_post=auto_post), key)
        return api_key

    async def save_setup(self, store_id: str, setup: StoreSetup,
                         key: KeyRecord | None = None) -> SetupRecord:
        """Written as any replica writes it, past this process's setup cache."""
        return await save_setup(PgTotalsUnitOfWork(self.wiring.pool), store_id, setup, key)

    async def get_setup(self, store_id: str) -> SetupRecord | None:
        async with PgTotalsUnitOfWork(self.wiring.pool) as uow:
            return await uow.setups.get(store_id)


async def save_setup(uow: PgTotalsUnitOfWork, store_id: str, setup: StoreSetup,
                     key: KeyRecord | None) -> SetupRecord:
    async with uow:
        record = await uow.setups.save(store_id, setup, key)
        await uow.commit()
    return record


def totals_settings(database_url: str, amqp_url: str, namespace: str,
                    auth_url: str = "http://127.0.0.1:9") -> TotalsSettings:
    return TotalsSettings.model_validate({
        "DATABASE_URL": database_url, "AMQP_URL": amqp_url, "AMQP_NAMESPACE": namespace,
        "AUTH_URL": auth_url,
        # No posting service in these tests: a saved setup is answered as not checked.
        "POSTING_URL": "http://127.0.0.1:9",
        "TOTALS_SSE_KEEPALIVE_S": 0.5, "AMQP_PUBLISH_TIMEOUT_S": 3,
    })


@contextlib.asynccontextmanager
async def serve(settings: TotalsSettings) -> AsyncIterator[RunningTotals]:
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           timeout_graceful_shutdown=1))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield RunningTotals(url, client, app.state.wiring, settings)
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def totals(database_url: str, amqp_url: str, namespace: str
                 ) -> AsyncIterator[RunningTotals]:
    async with serve(totals_settings(database_url, amqp_url, namespace)) as running:
        yield running


@pytest.fixture
async def broker(amqp_url: str, namespace: str) -> AsyncIterator[Broker]:
    """A producer/reader of our own on the same namespace (events as other services send)."""
    broker = Broker(amqp_url, topology(namespace))
    await broker.connect()
    yield broker
    await broker.close()


@pytest.fixture
async def auth_url(sandbox, database_url, amqp_url, namespace, tmp_path) -> AsyncIterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    await sandbox.client.put("/_control/clients/glbridge-dev", json={
        "client_secret": "glbridge-dev-secret",
        "redirect_uris": [f"{url}/v1/connect/callback"]})
    env = {"DATABASE_URL": database_url, "AMQP_URL": amqp_url, "AMQP_NAMESPACE": namespace,
           "AUTH_PORT": str(port),
           "AUTH_PUBLIC_URL": url, **sandbox.xero_env()}
    with ServiceProcess("services.auth", port, env, tmp_path).running("/readyz", 60):
        yield url


@pytest.fixture
async def totals_with_auth(database_url, amqp_url, namespace, auth_url
                           ) -> AsyncIterator[RunningTotals]:
    async with serve(totals_settings(database_url, amqp_url, namespace, auth_url)) as running:
        yield running
