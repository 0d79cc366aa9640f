"""What every service's HTTP side shares: how it is served, the service credential,
health and readiness, and a limit on request body sizes."""

import gc
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import uvicorn
from fastapi import APIRouter, FastAPI, Header, HTTPException, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import SecretStr
from starlette.datastructures import MutableHeaders
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.contracts.text import NUL_REFUSED, contains_nul
from shared.throttle import ThrottleFailedCredentials

ReadinessCheck = Callable[[], Awaitable[None]]

# A young-generation collection every 700 container allocations (CPython's default) runs
# several times per request, since one request makes thousands of pydantic and asyncpg
# objects that die with it. A first threshold of 20,000 made totals and posting use ~12%
# less CPU in the benchmark (two runs each way, older generations at 20 then); they keep
# CPython's ratio of 10 now, so cyclic garbage is collected every ~2 million allocations
# (the next benchmark and the 20-minute soak showed the same CPU, peak RSS under 150 MB).
GC_THRESHOLDS = (20_000, 10, 10)


def serve(app: ASGIApp, host: str, port: int, **options: Any) -> None:
    """Runs `app` with uvicorn, after freezing what start-up made (modules, routes,
    pydantic validators: most of the heap) so full collections no longer traverse it."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False,
                loop="uvloop", http="httptools", **options)


# The database refusing or dropping connections (too many clients, starting up or
# shutting down, a connection lost mid-request): the request may succeed if sent again.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    asyncpg.TooManyConnectionsError,
    asyncpg.CannotConnectNowError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.ConnectionFailureError,
    # Refused, reset, or lost while connecting (asyncpg raises a bare ConnectionError for
    # "unexpected connection_lost()"): the server, or a proxy before it, went away. The
    # services' HTTP clients (httpx, aiohttp) raise their own types, never these.
    ConnectionError,
)


def answer_503_when_the_database_is_unavailable(app: FastAPI, retry_after_s: int = 5) -> None:
    """A 503 with Retry-After, not a 500: the caller did nothing wrong and may retry."""

    async def unavailable(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(
            {"detail": "the database is unavailable for the moment: try again shortly",
             "reason": type(exc).__name__},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(retry_after_s)},
        )

    for kind in DATABASE_UNAVAILABLE:
        app.add_exception_handler(kind, unavailable)


def refuse_each_problem_once(app: FastAPI) -> None:
    """FastAPI's 422, each problem named once: a path parameter both a route and its
    dependency declare (the store id) is otherwise validated, and reported, twice."""

    async def refused(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        unique: list[Any] = []
        for error in exc.errors():
            if error not in unique:
                unique.append(error)
        return JSONResponse({"detail": jsonable_encoder(unique)},
                            status_code=422)

    app.add_exception_handler(RequestValidationError, refused)


def service_credential(*accepted: SecretStr) -> Callable[..., None]:
    """A dependency that admits only callers presenting one of the `accepted` credentials
    (each caller has its own, so an endpoint names who may call it)."""

    def check(authorization: str | None = Header(default=None)) -> None:
        scheme, _, presented = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not any(
            hmac.compare_digest(presented.encode(), expected.get_secret_value().encode())
            for expected in accepted
        ):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="a valid service credential is required (Authorization: Bearer ...)",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check


def health_router(checks: dict[str, ReadinessCheck]) -> APIRouter:
    """`/healthz`: the process answers. `/readyz`: its broker and database answer too."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", response_model=None)
    async def readyz() -> JSONResponse:
        failures: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await check()
            except Exception as exc:
                failures[name] = f"{type(exc).__name__}: {exc}"
        if failures:
            return JSONResponse({"status": "unavailable", "failures": failures}, status_code=503)
        return JSONResponse({"status": "ready", "checks": sorted(checks)})

    return router




# Our largest legitimate body (a day's totals, a setup) is a few kilobytes.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
# How much of a refused body is read (and dropped) so the client can read the 413.
DRAIN_FACTOR = 16


class BodyTooLarge(HTTPException):
    """Raised while a body is read past the limit; FastAPI answers it as a 413."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            detail=f"the request body is larger than the {max_bytes} bytes this service accepts",
        )


class BodySizeLimit:
    """ASGI middleware: a body over `max_bytes` is answered 413 before any handler sees it
    (declared Content-Length), or as soon as the bytes read pass the limit (chunked), so
    a huge request can neither exhaust memory nor be half-processed.

    Wiring: `app.add_middleware(BodySizeLimit)` (or `max_bytes=...`) in `create_app`."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._discard_rest(receive, 0)
            await self._refuse(scope, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    if message.get("more_body", False):
                        await self._discard_rest(receive, received)
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracked_send)
        except BodyTooLarge:
            # Raised where no exception handler answered it (outside a FastAPI route).
            if started:
                raise
            await self._refuse(scope, send)

    async def _discard_rest(self, receive: Receive, received: int) -> None:
        """Reads the rest of the body without keeping it, so the client (which sends the
        whole body before reading an answer) gets the 413 instead of a broken pipe; a
        body past the drain limit is cut off with the connection."""
        while received <= self.max_bytes * DRAIN_FACTOR:
            message = await receive()
            if message["type"] != "http.request":
                return
            received += len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    async def _refuse(self, scope: Scope, send: Send) -> None:
        error = BodyTooLarge(self.max_bytes)
        response = JSONResponse({"detail": error.detail}, status_code=error.status_code)
        # Any unread rest of the body must not be taken for the next request.
        response.headers["Connection"] = "close"
        await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RefuseNulCharacters:
    """ASGI middleware: a request whose path, query or body holds a NUL character gets a
    422 before any handler runs (PostgreSQL text cannot store one, and a handler that
    tried would fail with a 500). Bodies are buffered: put `BodySizeLimit` outside it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"").lower():
            await _refuse_nul(scope, send, "path")
            return
        body, messages = b"", []
        while True:
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        if contains_nul(body):
            await _refuse_nul(scope, send, "body")
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _refuse_nul(scope: Scope, send: Send, where: str) -> None:
    detail = [{"loc": [where], "msg": NUL_REFUSED, "type": "value_error"}]
    await JSONResponse({"detail": detail}, status_code=422)(scope, _no_body, send)


# The pages (auth's connect pages, totals' ops page) use only their own inline styles and
# scripts, post forms to themselves and are never framed (no clickjacking of "Allow",
# "Move the store" or "Replay").
PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """ASGI middleware: `nosniff`, `X-Frame-Options: DENY` and no referrer on every answer,
    the page policy (CSP) on HTML, and HSTS when served behind TLS (`hsts`).

    Wiring: `app.add_middleware(SecurityHeaders, hsts=settings.hsts)`."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "no-referrer")
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", PAGE_POLICY)
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, with_headers)


def accepted_hosts(app: FastAPI, hosts: str) -> None:
    """Answers 400 to a request whose Host is not one of `hosts` (comma-separated;
    `*` accepts any), so links the services build never name a host an attacker chose."""
    allowed = [h.strip() for h in hosts.split(",") if h.strip()] or ["*"]
    if allowed != ["*"]:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed)


def guard_the_edge(app: FastAPI, hsts: bool, allowed_hosts: str) -> None:
    """What every service puts in front of its routes, in this order: security headers,
    the throttle on failed credentials (added last of the two, so it is outermost and a
    throttled address is answered before its body is read), the accepted Host names,
    and a 503 while the database is away. Call it after the body checks a service adds."""
    app.add_middleware(SecurityHeaders, hsts=hsts)
    app.add_middleware(ThrottleFailedCredentials)
    accepted_hosts(app, allowed_hosts)
    answer_503_when_the_database_is_unavailable(app)
