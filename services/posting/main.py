"""Wiring: settings → pool, broker, auth and Xero clients → consumer, drain, outbox → app."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
from fastapi import FastAPI

from services.posting.adapters.auth import AuthClient
from services.posting.adapters.charts import ChartCache
from services.posting.adapters.gateway import XeroGateway
from services.posting.adapters.http import http_session
from services.posting.adapters.repository import Repository
from services.posting.adapters.xero import XeroClient
from services.posting.api.routes import status_router
from services.posting.api.setup_check import setup_check_router
from services.posting.domain.budget import Limits
from services.posting.handlers.drain import Drainer, DrainPolicy
from services.posting.handlers.scheduler import Scheduler
from services.posting.handlers.store_totals_closed import (
    StoreTotalsClosedHandler,
    batch_recorder,
)
from services.posting.handlers.xero_connected import XeroConnectedHandler
from services.posting.settings import PostingSettings
from shared.contracts.events import StoreTotalsClosed, XeroConnected
from shared.contracts.registry import EventRegistry
from shared.db import NoResetConnection, apply_migrations, create_pool, ensure_database
from shared.messaging.broker import Broker
from shared.messaging.consumer import Consumer
from shared.messaging.topology import POSTING_CONNECTIONS_QUEUE, POSTING_QUEUE, topology
from shared.metrics import metrics_router
from shared.outbox import HandOff, OutboxRelay
from shared.web import (
    BodySizeLimit,
    RefuseNulCharacters,
    answer_503_when_the_database_is_unavailable,
    health_router,
    service_credential,
)

log = logging.getLogger(__name__)

SCHEMA = "posting"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def limits_of(settings: PostingSettings) -> Limits:
    return Limits(
        per_minute=settings.per_minute,
        concurrent=settings.concurrent,
        app_per_minute=settings.app_per_minute,
        window=timedelta(seconds=60 + settings.window_margin_s),
        slot_ttl=timedelta(seconds=settings.xero.timeout_s + 10),
    )


def policy_of(settings: PostingSettings) -> DrainPolicy:
    return DrainPolicy(
        batch_size=settings.batch_size,
        max_attempts=settings.max_attempts,
        max_age_s=settings.max_age_s,
        backoff_base_s=settings.backoff_base_s,
        backoff_cap_s=settings.backoff_cap_s,
        lookup_chunk=settings.lookup_chunk,
        in_flight_grace_s=settings.in_flight_grace_s,
        max_claimed=settings.max_claimed,
        create_tracking_options=settings.create_tracking_options,
    )


def drainer_of(
    settings: PostingSettings, repo: Repository, http: aiohttp.ClientSession,
    broker: Broker | None = None,
) -> Drainer:
    """The drain of one process: Xero and auth over `http`, the budget shared through
    `repo`, its own chart cache."""
    xero = XeroClient(settings.xero.api_url, settings.xero.timeout_s, http)
    auth = AuthClient(
        settings.auth_url, settings.service_token, settings.auth_timeout_s,
        settings.token_margin_s, http,
    )
    gateway = XeroGateway(repo, xero, auth, limits_of(settings))
    charts = ChartCache(repo, gateway, settings.chart_ttl_s)
    return Drainer(repo, gateway, charts, policy_of(settings), broker)


def create_app(settings: PostingSettings | None = None) -> FastAPI:
    settings = settings or PostingSettings()
    broker = Broker(
        settings.amqp_url, topology(settings.amqp_namespace), settings.publish_timeout_s
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_database(settings.database_url)
        await apply_migrations(settings.database_url, SCHEMA, MIGRATIONS)
        # Posting leaves no session state on pooled connections: no reset round trips.
        pool = await create_pool(
            settings.database_url, SCHEMA, settings.db_pool_min, settings.db_pool_max,
            connection_class=NoResetConnection,
        )
        relaxed = await create_pool(
            settings.database_url, SCHEMA, 1, settings.db_pool_relaxed_max,
            server_settings={"synchronous_commit": "off"}, connection_class=NoResetConnection,
        )
        await broker.connect()
        handed = HandOff()
        repo = Repository(pool, relaxed, handed)
        # One connection per organisation being drained (each drains one call at a time,
        # two while its chart is read), and a few for auth.
        http = http_session(max_connections=settings.max_tenants * 2 + 8)
        drainer = drainer_of(settings, repo, http, broker)
        charts, auth = drainer.charts, drainer.gateway.auth
        scheduler = Scheduler(
            repo, drainer, settings.max_tenants, settings.lease_s, settings.poll_s
        )
        # The consumer's writes have their own connections: they never queue behind the
        # drains for the pool, so deliveries are acked promptly.
        record_pool = await create_pool(settings.database_url, SCHEMA, 1, 2,
                                        connection_class=NoResetConnection)
        recorder = batch_recorder(Repository(record_pool, handed=handed))
        recorder.start()
        consumer = Consumer(
            broker, POSTING_QUEUE, EventRegistry((StoreTotalsClosed,)),
            StoreTotalsClosedHandler(recorder, scheduler.wake), prefetch=settings.prefetch,
        )
        connections = Consumer(
            broker, POSTING_CONNECTIONS_QUEUE, EventRegistry((XeroConnected,)),
            XeroConnectedHandler(charts), prefetch=8,
        )
        app.state.pool, app.state.repo, app.state.auth = pool, repo, auth
        app.state.charts = charts
        # The relay too: outcomes must not wait for a connection behind the drains.
        relay_pool = await create_pool(settings.database_url, SCHEMA, 1, 2,
                                       connection_class=NoResetConnection)
        tasks = [
            asyncio.create_task(
                OutboxRelay(relay_pool, broker, SCHEMA, handed).run(),
                name="outbox",
            ),
            asyncio.create_task(scheduler.run(), name="scheduler"),
        ]
        await consumer.start()
        await connections.start()
        try:
            yield
        finally:
            await connections.stop()
            await consumer.stop()
            await charts.stop()
            await recorder.stop()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await repo.stop()
            await record_pool.close()
            await relay_pool.close()
            await relaxed.close()
            await http.close()
            await broker.close()
            await pool.close()

    app = FastAPI(title="xero-gl-bridge posting", lifespan=lifespan)
    # Outermost last: the size limit runs before the NUL check buffers a body.
    app.add_middleware(RefuseNulCharacters)
    app.add_middleware(BodySizeLimit)
    answer_503_when_the_database_is_unavailable(app)

    async def database() -> None:
        await app.state.pool.fetchval("SELECT 1")

    async def broker_ready() -> None:
        if not broker.is_connected:
            raise RuntimeError("broker not connected")

    app.include_router(health_router({"database": database, "broker": broker_ready}))
    app.include_router(metrics_router())
    app.include_router(status_router(service_credential(settings.service_token)))
    app.include_router(setup_check_router(service_credential(settings.service_token)))
    return app
