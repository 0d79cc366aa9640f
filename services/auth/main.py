"""Wiring: settings → pool, broker, cipher, Xero client → vault and connect flow → app."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import Depends, FastAPI

from services.auth.adapters.cipher import Cipher
from services.auth.adapters.xero import XeroIdentity
from services.auth.api import internal, public
from services.auth.service_layer.connect import ConnectFlow
from services.auth.service_layer.keepalive import keep_alive_loop
from services.auth.service_layer.vault import Vault
from services.auth.settings import AuthSettings
from shared.db import apply_migrations, create_pool, ensure_database
from shared.messaging.broker import Broker
from shared.messaging.topology import topology
from shared.metrics import metrics_router
from shared.outbox import HandOff, OutboxRelay
from shared.settings import XeroSettings
from shared.web import (
    BodySizeLimit,
    answer_503_when_the_database_is_unavailable,
    health_router,
    refuse_each_problem_once,
    service_credential,
)

log = logging.getLogger(__name__)

SCHEMA = "auth"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def create_app(settings: AuthSettings | None = None, xero: XeroSettings | None = None) -> FastAPI:
    settings = settings or AuthSettings()
    xero = xero or XeroSettings()
    cipher = Cipher.from_spec(settings.encryption_keys.get_secret_value())  # fail fast
    broker = Broker(
        settings.amqp_url, topology(settings.amqp_namespace), settings.publish_timeout_s
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.uses_dev_keys:
            log.warning(
                "AUTH_ENCRYPTION_KEYS is the development default: tokens are sealed with a "
                "publicly known key. Set AUTH_ENCRYPTION_KEYS in production."
            )
        await ensure_database(settings.database_url)
        await apply_migrations(settings.database_url, SCHEMA, MIGRATIONS)
        pool = await create_pool(
            settings.database_url, SCHEMA, settings.db_pool_min, settings.db_pool_max
        )
        await broker.connect()
        identity = XeroIdentity(xero)
        app.state.pool = pool
        handed = HandOff()
        app.state.vault = Vault(pool, cipher, identity, settings, handed=handed)
        app.state.flow = ConnectFlow(pool, cipher, identity, settings, handed=handed)
        tasks = [
            asyncio.create_task(
                OutboxRelay(pool, broker, SCHEMA, handed).run(), name="outbox"
            ),
            asyncio.create_task(
                keep_alive_loop(
                    app.state.vault, settings.keepalive_days, settings.keepalive_interval_s
                ),
                name="keep-alive",
            ),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await broker.close()
            await pool.close()

    app = FastAPI(title="xero-gl-bridge auth", lifespan=lifespan)
    app.add_middleware(BodySizeLimit)
    answer_503_when_the_database_is_unavailable(app)
    refuse_each_problem_once(app)

    async def database_ready() -> None:
        await app.state.pool.fetchval("SELECT 1")

    async def broker_ready() -> None:
        if not broker.is_connected:
            raise ConnectionError("broker connection closed")

    credential = service_credential(settings.service_token)

    app.include_router(health_router({"database": database_ready, "broker": broker_ready}))
    app.include_router(metrics_router())
    app.include_router(public.router)
    app.include_router(internal.router, dependencies=[Depends(credential)])
    return app
