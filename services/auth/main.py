"""Wiring: settings → pool, broker, cipher, Xero client → vault and connect flow → app."""

import contextlib
import logging
from pathlib import Path

from fastapi import Depends, FastAPI

from services.auth.adapters.cipher import Cipher
from services.auth.adapters.unit_of_work import unit_of_work
from services.auth.adapters.xero import XeroIdentity
from services.auth.entrypoints.http import internal, public
from services.auth.service_layer.connect import ConnectFlow
from services.auth.service_layer.keepalive import keep_alive_loop
from services.auth.service_layer.vault import Vault
from services.auth.settings import AuthSettings
from shared.bootstrap import (
    connect_broker_in_background,
    lifespan_on_a_stack,
    migrate,
    open_pool,
    readiness_checks,
    start_task,
)
from shared.messaging.broker import Broker
from shared.messaging.topology import topology
from shared.metrics import metrics_router
from shared.outbox import HandOff, OutboxRelay
from shared.security import refuse_insecure_start
from shared.settings import XeroSettings
from shared.web import (
    BodySizeLimit,
    guard_the_edge,
    health_router,
    refuse_each_problem_once,
    service_credential,
)

log = logging.getLogger(__name__)

SCHEMA = "auth"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


async def bootstrap(app: FastAPI, settings: AuthSettings, xero: XeroSettings, cipher: Cipher,
                    stack: contextlib.AsyncExitStack) -> None:
    """Opens what auth runs on; the outbox relay starts once the broker answers."""
    if settings.uses_dev_keys:
        log.warning(
            "AUTH_ENCRYPTION_KEYS is the development default: tokens are sealed with a "
            "publicly known key. Set AUTH_ENCRYPTION_KEYS in production."
        )
    await migrate(settings.database_url, SCHEMA, MIGRATIONS)
    pool = await open_pool(stack, settings.database_url, SCHEMA, settings.db_pool_min,
                           settings.db_pool_max)
    broker = Broker(
        settings.amqp_url, topology(settings.amqp_namespace), settings.publish_timeout_s
    )
    identity = XeroIdentity(xero)
    handed = HandOff()
    uow = unit_of_work(pool, handed)
    vault = Vault(uow, cipher, identity, settings)
    app.state.pool, app.state.vault = pool, vault
    app.state.flow = ConnectFlow(uow, cipher, identity, settings)
    start_task(stack, keep_alive_loop(vault, settings.keepalive_days,
                                      settings.keepalive_interval_s), "keep-alive")

    async def on_connected(connected: contextlib.AsyncExitStack) -> None:
        start_task(connected, OutboxRelay(pool, broker, SCHEMA, handed).run(), "outbox")

    app.state.broker = await connect_broker_in_background(
        stack, broker, on_connected, settings.broker_wait_s)


def create_app(settings: AuthSettings | None = None, xero: XeroSettings | None = None) -> FastAPI:
    settings = settings or AuthSettings()
    xero = xero or XeroSettings()
    refuse_insecure_start("auth", settings, xero, settings.encryption_keys)
    cipher = Cipher.from_spec(settings.encryption_keys.get_secret_value())  # fail fast

    async def start(app: FastAPI, stack: contextlib.AsyncExitStack) -> None:
        await bootstrap(app, settings, xero, cipher, stack)

    app = FastAPI(title="xero-gl-bridge auth", lifespan=lifespan_on_a_stack(start))
    app.add_middleware(BodySizeLimit)
    guard_the_edge(app, settings.hsts, settings.allowed_hosts)
    refuse_each_problem_once(app)
    totals = service_credential(settings.totals_service_token)
    posting = service_credential(settings.posting_service_token)
    either = service_credential(settings.totals_service_token, settings.posting_service_token)
    app.include_router(health_router(readiness_checks(app)))
    app.include_router(metrics_router())
    app.include_router(public.router)
    app.include_router(internal.for_totals, dependencies=[Depends(totals)])
    app.include_router(internal.for_posting, dependencies=[Depends(posting)])
    app.include_router(internal.for_services, dependencies=[Depends(either)])
    return app
