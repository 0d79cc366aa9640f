"""Injected faults: latency, 500/503 answers, dropped connections, timeouts, before the
request is processed (`apply_faults`) or after it (`lose_after_commit`: Xero stored the
journal, the answer never arrives).

A dropped answer is done at the ASGI edge (`DropMiddleware`): the route marks the
request, the middleware closes the socket instead of sending the response, so the
client sees the connection end with no answer at all.
"""

import asyncio
import random
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.xero_sandbox.domain.state import Sandbox

_DROP = "sandbox.drop"
LOST_ANSWERS = ("drop", "timeout", "error")
WRITE_METHODS = frozenset({"PUT", "POST"})


def drop_answer(request: Request) -> None:
    request.scope[_DROP] = True


async def apply_faults(
    request: Request, sandbox: Sandbox, tenant_id: str | None
) -> Response | None:
    """Latency first, then at most one of: error, drop, timeout. None: answer normally."""
    faults = sandbox.faults
    if not faults.applies_to(tenant_id):
        return None
    if faults.latency_max_ms > 0:
        low = min(faults.latency_min_ms, faults.latency_max_ms)
        await asyncio.sleep(random.uniform(low, faults.latency_max_ms) / 1000)
    if faults.error_rate > 0 and random.random() < faults.error_rate:
        return _server_error()
    if faults.drop_rate > 0 and random.random() < faults.drop_rate:
        drop_answer(request)
        return Response(status_code=204)
    if faults.timeout_rate > 0 and random.random() < faults.timeout_rate:
        await asyncio.sleep(request.app.state.settings.fault_timeout_s)
    return None


async def lose_after_commit(
    request: Request, sandbox: Sandbox, tenant_id: str | None, answer: Response
) -> Response:
    """A write already processed loses its answer: the connection drops, the answer is held
    past any client's patience, or a 500/503 comes instead. Xero's answer stays remembered
    under the request's Idempotency-Key, so a resend with the same key gets it."""
    faults = sandbox.faults
    if request.method not in WRITE_METHODS or not faults.applies_to(tenant_id):
        return answer
    if faults.lose_write_answers > 0:
        faults.lose_write_answers -= 1
    elif not (faults.lost_write_answer_rate > 0
              and random.random() < faults.lost_write_answer_rate):
        return answer
    if faults.lost_answer == "timeout":
        await asyncio.sleep(request.app.state.settings.fault_timeout_s)
        return answer
    if faults.lost_answer == "error":
        return _server_error()
    drop_answer(request)
    return Response(status_code=204)


def _server_error() -> Response:
    status = random.choice((500, 503))
    text = "Service Unavailable" if status == 503 else "An error occurred in Xero."
    return Response(text, status, media_type="text/plain; charset=utf-8")


class DropMiddleware:
    """Outermost ASGI layer: aborts the connection of requests marked as dropped."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        dropped = False

        async def guarded_send(message: Message) -> None:
            nonlocal dropped
            if dropped:
                return
            if message["type"] == "http.response.start" and scope.get(_DROP):
                dropped = True
                await _abort(receive)
                return
            await send(message)

        await self.app(scope, receive, guarded_send)


async def _abort(receive: Any) -> None:
    # uvicorn's receive is a bound method of its request cycle, which holds the socket.
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is not None:
        transport.abort()
    await asyncio.sleep(0)  # let the server notice the disconnect before it tidies up
