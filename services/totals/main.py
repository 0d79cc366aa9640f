"""Wiring: database, broker, outbox relay, consumers, the day notifier and the routers."""

import contextlib
import logging
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from services.totals.adapters.auth_client import AuthClient
from services.totals.adapters.first_closes import PgFirstCloses
from services.totals.adapters.notifier import DayNotifier
from services.totals.adapters.ops_reader import OpsReader
from services.totals.adapters.ops_sessions import PgOpsSessions
from services.totals.adapters.pos_requests import PgPosRequestsSeen
from services.totals.adapters.setup_checker import PostingSetupChecker
from services.totals.adapters.unit_of_work import unit_of_work
from services.totals.entrypoints.consumers.pos import PosHandler
from services.totals.entrypoints.consumers.results import ResultsHandler
from services.totals.entrypoints.http import days, events_doc, ops, setup
from services.totals.entrypoints.http.deps import Wiring
from services.totals.entrypoints.http.wait_slots import WaitSlots
from services.totals.service_layer.days import TotalsService
from services.totals.service_layer.outcomes import Outcomes
from services.totals.settings import TotalsSettings
from shared.bootstrap import (
    connect_broker_in_background,
    lifespan_on_a_stack,
    migrate,
    open_pool,
    readiness_checks,
    start_task,
)
from shared.contracts.pos import POS_REQUESTS, RETIRED_POS_REQUESTS
from shared.contracts.registry import EventRegistry
from shared.db import NoResetConnection
from shared.messaging.broker import Broker
from shared.messaging.consumer import Consumer
from shared.messaging.topology import TOTALS_POS_QUEUE, TOTALS_RESULTS_QUEUE, topology
from shared.metrics import metrics_router
from shared.outbox import HandOff, OutboxRelay
from shared.security import refuse_insecure_start
from shared.settings import XeroSettings, refuse_unworkable
from shared.web import (
    BodySizeLimit,
    RefuseNulCharacters,
    guard_the_edge,
    health_router,
    refuse_each_problem_once,
)

log = logging.getLogger(__name__)

SCHEMA = "totals"
MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: TotalsSettings) -> FastAPI:
    refuse_insecure_start("totals", settings, refuse_unworkable(XeroSettings))

    async def start(app: FastAPI, stack: contextlib.AsyncExitStack) -> None:
        await bootstrap(app, settings, stack)

    app = FastAPI(title="xero-gl-bridge totals", version="1.0.0",
                  lifespan=lifespan_on_a_stack(start))
    # Outermost last: the size limit runs before the NUL check buffers a body.
    app.add_middleware(RefuseNulCharacters)
    app.add_middleware(BodySizeLimit)
    guard_the_edge(app, settings.hsts, settings.allowed_hosts)
    refuse_each_problem_once(app)
    app.include_router(health_router(readiness_checks(app)))
    app.include_router(metrics_router())
    app.include_router(setup.router)
    app.include_router(days.router)
    app.include_router(events_doc.router)
    app.include_router(ops.router)
    return app


async def bootstrap(app: FastAPI, settings: TotalsSettings,
                    stack: contextlib.AsyncExitStack) -> None:
    """Opens what totals runs on; the outbox relay and the consumers start once the
    broker answers. Until then the API still takes closes (they wait in the outbox)."""
    await migrate(settings.database_url, SCHEMA, MIGRATIONS)
    # Totals leaves no session state on pooled connections (its LISTEN has a connection
    # of its own): no reset round trip per use, one per request and per outcome before.
    pool = await open_pool(stack, settings.database_url, SCHEMA, settings.db_pool_min,
                           settings.db_pool_max, connection_class=NoResetConnection)
    handed = HandOff()
    auth = AuthClient(settings.auth_url, settings.totals_service_token, settings.auth_timeout_s)
    stack.push_async_callback(auth.close)
    checker = PostingSetupChecker(settings.posting_url, settings.totals_service_token,
                                  settings.setup_check_timeout_s)
    stack.push_async_callback(checker.close)
    first_closes = PgFirstCloses(pool, handed)
    stack.push_async_callback(first_closes.stop)
    service = TotalsService(unit_of_work(pool, handed), first_closes, auth, checker)
    notifier = DayNotifier(settings.database_url, SCHEMA,
                           on_setup_changed=service.setups.evict,
                           on_connected=service.setups.clear)
    service.setups.live = notifier.connected.is_set
    await notifier.start()
    stack.push_async_callback(notifier.stop)
    broker = Broker(settings.amqp_url, topology(settings.amqp_namespace),
                    settings.publish_timeout_s)
    app.state.pool = pool
    app.state.wiring = Wiring(settings, pool, service, notifier, auth)
    app.state.ops = OpsReader(pool, settings.amqp_url, topology(settings.amqp_namespace),
                              settings.rabbitmq_management_url, settings.publish_timeout_s)
    stack.push_async_callback(app.state.ops.close)
    app.state.ops_sessions = PgOpsSessions(pool)
    app.state.wait_slots = WaitSlots(settings.max_waits_per_store)

    async def on_connected(connected: contextlib.AsyncExitStack) -> None:
        # The relay and the outcome consumer have connections of their own: queued
        # behind a rush of closes for the request pool, they published a third of what
        # was closed.
        background = await open_pool(connected, settings.database_url, SCHEMA, 1, 3,
                                     connection_class=NoResetConnection)
        results = ResultsHandler(Outcomes(unit_of_work(background, handed)))
        results.start()
        connected.push_async_callback(results.stop)
        start_task(connected, OutboxRelay(background, broker, SCHEMA, handed).run(),
                   "outbox-relay")
        consumers = (
            Consumer(broker, TOTALS_RESULTS_QUEUE, EventRegistry(), results,
                     prefetch=settings.prefetch),
            Consumer(broker, TOTALS_POS_QUEUE,
                     EventRegistry((*POS_REQUESTS, *RETIRED_POS_REQUESTS)),
                     PosHandler(service, PgPosRequestsSeen(pool),
                                timedelta(seconds=settings.pos_message_max_age_s)),
                     prefetch=settings.prefetch),
        )
        for consumer in consumers:
            await consumer.start()
            connected.push_async_callback(consumer.stop)

    app.state.broker = await connect_broker_in_background(
        stack, broker, on_connected, settings.broker_wait_s)
