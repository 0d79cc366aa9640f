"""How a service starts: everything it opens goes onto one `AsyncExitStack`, so a stop,
or a start step that fails, closes exactly what was opened, in reverse order.

The broker is connected in the background, retrying until it answers: a service starts
and serves while RabbitMQ is down (what needs no broker works, events wait in the
outbox) and its `/readyz` names the broker until it connects.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import asyncpg
from fastapi import FastAPI
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_fixed

from shared.db import apply_migrations, create_pool, ensure_database
from shared.messaging.broker import Broker
from shared.web import ReadinessCheck

log = logging.getLogger(__name__)

Start = Callable[[FastAPI, contextlib.AsyncExitStack], Awaitable[None]]
OnConnected = Callable[[contextlib.AsyncExitStack], Awaitable[None]]

# Between two attempts to reach the broker.
BROKER_RETRY_S = 2.0


def lifespan_on_a_stack(
    start: Start,
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """A FastAPI lifespan that runs `start` on a fresh stack and unwinds it at stop."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            await start(app, stack)
            yield

    return lifespan


async def migrate(database_url: str, schema: str, migrations: Path) -> None:
    await ensure_database(database_url)
    await apply_migrations(database_url, schema, migrations)


async def open_pool(
    stack: contextlib.AsyncExitStack, database_url: str, schema: str, min_size: int,
    max_size: int, **options: Any,
) -> asyncpg.Pool:
    """A pool on `schema`, closed when the stack unwinds."""
    pool = await create_pool(database_url, schema, min_size, max_size, **options)
    stack.push_async_callback(pool.close)
    return pool


def start_task(
    stack: contextlib.AsyncExitStack, coro: Coroutine[Any, Any, object], name: str
) -> asyncio.Task[object]:
    """Runs `coro` in the background; cancelled (and awaited) when the stack unwinds."""
    task = asyncio.create_task(coro, name=name)

    async def cancel() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    stack.push_async_callback(cancel)
    return task


class BrokerLink:
    """The broker, and whether what runs on it (relays, consumers) has started: ready
    only once both hold, so `/readyz` says ready only when events flow."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.started = asyncio.Event()

    @property
    def ready(self) -> bool:
        return self.started.is_set() and self.broker.is_connected


async def connect_broker_in_background(
    stack: contextlib.AsyncExitStack, broker: Broker, on_connected: OnConnected,
    wait_s: float, retry_s: float = BROKER_RETRY_S,
) -> BrokerLink:
    """Connects `broker`, retrying until it answers, then runs `on_connected` (relays,
    consumers) on a stack of its own that unwinds before the broker closes. Waits up to
    `wait_s` for both: normally the broker answers at once; if not, the service starts
    without it and the link is not ready until it connects."""
    link = BrokerLink(broker)
    retrying = AsyncRetrying(retry=retry_if_exception_type(Exception), wait=wait_fixed(retry_s),
                             before_sleep=_log_unreachable)
    start_task(stack, retrying(_stay_connected, link, on_connected), "broker")
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(link.started.wait(), timeout=wait_s)
    return link


async def _stay_connected(link: BrokerLink, on_connected: OnConnected) -> None:
    """Connected and started until cancelled; any failure on the way unwinds what was
    started, the broker connection included, for the next attempt."""
    async with contextlib.AsyncExitStack() as connected:
        connected.callback(link.started.clear)
        connected.push_async_callback(link.broker.close)
        await link.broker.connect()
        await on_connected(connected)
        link.started.set()
        await asyncio.Event().wait()


def _log_unreachable(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    log.warning("broker unreachable (attempt %d), tried again in %.0f s: %r",
                state.attempt_number, state.upcoming_sleep, error)


def readiness_checks(app: FastAPI) -> dict[str, ReadinessCheck]:
    """`/readyz`'s checks: the database answers on `app.state.pool`, the broker link
    `app.state.broker` is ready."""

    async def database() -> None:
        await app.state.pool.fetchval("SELECT 1")

    async def broker() -> None:
        link: BrokerLink | None = getattr(app.state, "broker", None)
        if link is None or not link.ready:
            raise ConnectionError("broker not connected")

    return {"database": database, "broker": broker}
