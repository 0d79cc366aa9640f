"""Wiring: database, broker, outbox relay, consumers, the day notifier and the routers."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from services.totals.adapters.auth_client import AuthClient
from services.totals.adapters.notifier import DayNotifier
from services.totals.adapters.ops_reader import OpsReader
from services.totals.adapters.repository import TotalsRepository
from services.totals.adapters.setup_checker import PostingSetupChecker
from services.totals.api import days, events_doc, ops, setup
from services.totals.api.deps import Wiring
from services.totals.handlers.days import TotalsService
from services.totals.handlers.pos import PosHandler
from services.totals.handlers.results import ResultsHandler
from services.totals.settings import TotalsSettings
from shared.contracts.pos import POS_REQUESTS
from shared.contracts.registry import EventRegistry
from shared.db import NoResetConnection, apply_migrations, create_pool, ensure_database
from shared.messaging.broker import Broker
from shared.messaging.consumer import Consumer
from shared.messaging.topology import TOTALS_POS_QUEUE, TOTALS_RESULTS_QUEUE, topology
from shared.metrics import metrics_router
from shared.outbox import HandOff, OutboxRelay
from shared.web import (
    BodySizeLimit,
    RefuseNulCharacters,
    answer_503_when_the_database_is_unavailable,
    health_router,
    refuse_each_problem_once,
)

log = logging.getLogger(__name__)

SCHEMA = "totals"
MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: TotalsSettings) -> FastAPI:
    state: dict[str, object] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            await _start(app, settings, stack, state)
            yield

    app = FastAPI(title="xero-gl-bridge totals", version="1.0.0", lifespan=lifespan)
    # Outermost last: the size limit runs before the NUL check buffers a body.
    app.add_middleware(RefuseNulCharacters)
    app.add_middleware(BodySizeLimit)
    answer_503_when_the_database_is_unavailable(app)
    refuse_each_problem_once(app)

    async def database_ready() -> None:
        wired: Wiring = app.state.wiring
        await wired.repo.pool.fetchval("SELECT 1")

    async def broker_ready() -> None:
        broker = state.get("broker")
        if not isinstance(broker, Broker) or not broker.is_connected:
            raise RuntimeError("broker not connected")

    app.include_router(health_router({"database": database_ready, "broker": broker_ready}))
    app.include_router(metrics_router())
    app.include_router(setup.router)
    app.include_router(days.router)
    app.include_router(events_doc.router)
    app.include_router(ops.router)
    return app


async def _start(
    app: FastAPI, settings: TotalsSettings, stack: contextlib.AsyncExitStack,
    state: dict[str, object],
) -> None:
    await ensure_database(settings.database_url)
    await apply_migrations(settings.database_url, SCHEMA, MIGRATIONS)
    # Totals leaves no session state on pooled connections (its LISTEN has a connection
    # of its own): no reset round trip per use, one per request and per outcome before.
    pool = await create_pool(settings.database_url, SCHEMA, settings.db_pool_min,
                             settings.db_pool_max, connection_class=NoResetConnection)
    stack.push_async_callback(pool.close)
    handed = HandOff()
    repo = TotalsRepository(pool, handed)
    auth = AuthClient(settings.auth_url, settings.service_token, settings.auth_timeout_s)
    stack.push_async_callback(auth.close)
    checker = PostingSetupChecker(settings.posting_url, settings.service_token,
                                  settings.setup_check_timeout_s)
    stack.push_async_callback(checker.close)
    service = TotalsService(repo, auth, checker)
    notifier = DayNotifier(settings.database_url, on_setup_changed=service.setups.evict,
                           on_connected=service.setups.clear)
    service.setups.live = notifier.connected.is_set
    await notifier.start()
    stack.push_async_callback(notifier.stop)

    messaging_up = asyncio.Event()
    _task(stack, _messaging(settings, repo, service, state, messaging_up), "messaging")
    # Normally the broker answers at once; if not, the API still takes closes (they wait
    # in the outbox) and /readyz says the broker is missing until it connects.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(messaging_up.wait(), timeout=settings.broker_wait_s)
    app.state.wiring = Wiring(settings, repo, service, notifier)
    app.state.ops = OpsReader(pool, settings.amqp_url, topology(settings.amqp_namespace),
                              settings.rabbitmq_management_url, settings.publish_timeout_s)
    stack.push_async_callback(app.state.ops.close)


async def _messaging(
    settings: TotalsSettings, repo: TotalsRepository, service: TotalsService,
    state: dict[str, object], up: asyncio.Event,
) -> None:
    """Connects to the broker (retrying until it answers), then relays the outbox and
    consumes results and POS requests until cancelled."""
    broker = Broker(settings.amqp_url, topology(settings.amqp_namespace),
                    settings.publish_timeout_s)
    while True:
        try:
            await broker.connect()
            break
        except Exception as exc:  # any failure to reach or set up the broker: try again
            log.warning("broker unreachable; closes wait in the outbox: %s", exc)
            with contextlib.suppress(Exception):
                await broker.close()
            await asyncio.sleep(2)
    state["broker"] = broker
    # The relay and the outcome consumer have connections of their own: queued behind a
    # rush of closes for the request pool, they published a third of what was closed.
    background = await create_pool(settings.database_url, SCHEMA, 1, 3,
                                   connection_class=NoResetConnection)
    results = ResultsHandler(TotalsRepository(background, repo.handed))
    results.start()
    consumers = [
        Consumer(broker, TOTALS_RESULTS_QUEUE, EventRegistry(), results,
                 prefetch=settings.prefetch),
        Consumer(broker, TOTALS_POS_QUEUE, EventRegistry(POS_REQUESTS),
                 PosHandler(service, repo), prefetch=settings.prefetch),
    ]
    relay = OutboxRelay(background, broker, SCHEMA, repo.handed)
    relaying = asyncio.create_task(relay.run(), name="outbox-relay")
    try:
        for consumer in consumers:
            await consumer.start()
        up.set()
        await relaying
    finally:
        relaying.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relaying
        for consumer in consumers:
            with contextlib.suppress(Exception):
                await consumer.stop()
        await results.stop()
        await broker.close()
        await background.close()


def _task(
    stack: contextlib.AsyncExitStack, coro: Coroutine[Any, Any, None], name: str
) -> None:
    task = asyncio.create_task(coro, name=name)

    async def cancel() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(cancel)

