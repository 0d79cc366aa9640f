"""Wiring: settings → pools, auth and Xero clients, drain → (once the broker answers)
consumers, scheduler, outbox relay; the app mounts the routers."""

import contextlib
import logging
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

import aiohttp
from fastapi import FastAPI

from services.posting.adapters.auth import AuthClient
from services.posting.adapters.charts import ChartCache
from services.posting.adapters.earlier import PostgresEarlierJournals
from services.posting.adapters.gateway import XeroGateway
from services.posting.adapters.http import http_session
from services.posting.adapters.journal_origins import PgJournalOrigins
from services.posting.adapters.refused import PostgresRefusedAttempts
from services.posting.adapters.stores import PostingStores
from services.posting.adapters.unit_of_work import unit_of_work
from services.posting.adapters.xero import XeroClient
from services.posting.domain.budget import Limits
from services.posting.entrypoints.consumers.store_totals_closed import (
    StoreTotalsClosedHandler,
    batch_recorder,
)
from services.posting.entrypoints.consumers.xero_connected import XeroConnectedHandler
from services.posting.entrypoints.http.routes import status_router
from services.posting.entrypoints.http.setup_check import setup_check_router
from services.posting.entrypoints.workers.scheduler import Scheduler
from services.posting.service_layer.drain.drainer import Drainer
from services.posting.service_layer.drain.policy import DrainPolicy
from services.posting.service_layer.recording import Recorder
from services.posting.settings import PostingSettings
from shared.bootstrap import (
    connect_broker_in_background,
    lifespan_on_a_stack,
    migrate,
    open_pool,
    readiness_checks,
    start_task,
)
from shared.contracts.events import StoreTotalsClosed, XeroConnected
from shared.contracts.registry import EventRegistry
from shared.db import NoResetConnection
from shared.messaging.broker import Broker
from shared.messaging.consumer import Consumer
from shared.messaging.topology import POSTING_CONNECTIONS_QUEUE, POSTING_QUEUE, topology
from shared.metrics import metrics_router
from shared.outbox import HandOff, OutboxRelay
from shared.security import refuse_insecure_start
from shared.web import (
    BodySizeLimit,
    RefuseNulCharacters,
    guard_the_edge,
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


class Drain(NamedTuple):
    """A drainer and the adapters it was given that the process also uses itself (the
    drainer knows them by their ports only)."""

    drainer: Drainer
    gateway: XeroGateway
    charts: ChartCache


def drain_of(
    settings: PostingSettings, stores: PostingStores, http: aiohttp.ClientSession,
    broker: Broker | None = None,
) -> Drain:
    """The drain of one process: Xero and auth over `http`, the budget shared through
    `stores`, its own chart cache."""
    xero = XeroClient(settings.xero.api_url, settings.xero.timeout_s, http)
    auth = AuthClient(
        settings.auth_url, settings.posting_service_token, settings.auth_timeout_s,
        settings.token_margin_s, http,
    )
    gateway = XeroGateway(stores.budget, xero, auth, limits_of(settings), day=stores.day)
    charts = ChartCache(stores.charts, gateway, settings.chart_ttl_s,
                        in_memory=settings.charts_in_memory)
    pool = stores.pool
    drainer = Drainer(stores.postings, gateway, charts, policy_of(settings),
                      PostgresEarlierJournals(pool), PostgresRefusedAttempts(pool),
                      PgJournalOrigins(pool), broker)
    return Drain(drainer, gateway, charts)


async def bootstrap(app: FastAPI, settings: PostingSettings,
                    stack: contextlib.AsyncExitStack) -> None:
    """Opens what posting runs on; the drain and the consumers start once the broker
    answers."""
    await migrate(settings.database_url, SCHEMA, MIGRATIONS)
    # Posting leaves no session state on pooled connections: no reset round trips.
    pool = await open_pool(stack, settings.database_url, SCHEMA, settings.db_pool_min,
                           settings.db_pool_max, connection_class=NoResetConnection)
    relaxed = await open_pool(stack, settings.database_url, SCHEMA, 1,
                              settings.db_pool_relaxed_max,
                              server_settings={"synchronous_commit": "off"},
                              connection_class=NoResetConnection)
    # The consumer's writes have their own connections: they never queue behind the
    # drains for the pool, so deliveries are acked promptly. The relay too: outcomes
    # must not wait for a connection behind the drains.
    record_pool = await open_pool(stack, settings.database_url, SCHEMA, 1, 2,
                                  connection_class=NoResetConnection)
    relay_pool = await open_pool(stack, settings.database_url, SCHEMA, 1, 2,
                                 connection_class=NoResetConnection)
    broker = Broker(
        settings.amqp_url, topology(settings.amqp_namespace), settings.publish_timeout_s
    )
    handed = HandOff()
    stores = PostingStores(pool, relaxed, handed, settings.max_tenants_total or None,
                           settings.per_day)
    stack.push_async_callback(stores.stop)
    # One connection per organisation being drained (each drains one call at a time,
    # two while its chart is read), and a few for auth.
    http = http_session(max_connections=settings.max_tenants * 2 + 8)
    stack.push_async_callback(http.close)
    drainer, gateway, charts = drain_of(settings, stores, http, broker)
    stack.push_async_callback(charts.stop)
    scheduler = Scheduler(
        stores.leases, drainer, settings.max_tenants, settings.lease_s, settings.poll_s
    )
    app.state.pool, app.state.views, app.state.auth = pool, stores.views, gateway.auth
    app.state.charts = charts

    async def on_connected(connected: contextlib.AsyncExitStack) -> None:
        start_task(connected, OutboxRelay(relay_pool, broker, SCHEMA, handed).run(), "outbox")
        start_task(connected, scheduler.run(), "scheduler")
        recorder = batch_recorder(Recorder(unit_of_work(record_pool, handed)))
        recorder.start()
        connected.push_async_callback(recorder.stop)
        consumers = (
            Consumer(broker, POSTING_QUEUE, EventRegistry((StoreTotalsClosed,)),
                     StoreTotalsClosedHandler(recorder, scheduler.wake),
                     prefetch=settings.prefetch),
            Consumer(broker, POSTING_CONNECTIONS_QUEUE, EventRegistry((XeroConnected,)),
                     XeroConnectedHandler(charts), prefetch=8),
        )
        for consumer in consumers:
            await consumer.start()
            connected.push_async_callback(consumer.stop)

    app.state.broker = await connect_broker_in_background(
        stack, broker, on_connected, settings.broker_wait_s)


def create_app(settings: PostingSettings | None = None) -> FastAPI:
    settings = settings or PostingSettings()
    refuse_insecure_start("posting", settings, settings.xero)

    async def start(app: FastAPI, stack: contextlib.AsyncExitStack) -> None:
        await bootstrap(app, settings, stack)

    app = FastAPI(title="xero-gl-bridge posting", lifespan=lifespan_on_a_stack(start))
    # Outermost last: the size limit runs before the NUL check buffers a body.
    app.add_middleware(RefuseNulCharacters)
    app.add_middleware(BodySizeLimit)
    guard_the_edge(app, settings.hsts, settings.allowed_hosts)
    app.include_router(health_router(readiness_checks(app)))
    app.include_router(metrics_router())
    # Posting's status API is the operator's view: the ops credential opens it; totals
    # asks posting to check a setup against the organisation.
    app.include_router(status_router(service_credential(settings.ops_token)))
    app.include_router(setup_check_router(service_credential(settings.totals_service_token)))
    return app
