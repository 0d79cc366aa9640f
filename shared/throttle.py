"""Failed credentials throttled per client address.

Every 401 a service answers (a wrong store key, service credential, ops token, or a
reconnect without proof) counts against the caller's address; past `limit` within
`window_s` the address gets a 429 with `Retry-After` before anything is checked, so
keys and tokens cannot be guessed at speed. In-process: each replica counts its own.
Behind a proxy, the address is the one uvicorn takes from `X-Forwarded-For` of a
trusted proxy (`--forwarded-allow-ips`).
"""

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from fastapi.responses import JSONResponse
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ThrottleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Failed credentials one address may present per window before it gets 429s.
    failures: int = Field(30, alias="THROTTLE_FAILURES")
    window_s: float = Field(60.0, alias="THROTTLE_WINDOW_S")


class FailureCounter:
    """Failures per address within a sliding window; at most `max_addresses` remembered
    (the least recently failing are forgotten first), so memory stays bounded."""

    def __init__(self, limit: int, window_s: float, max_addresses: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_addresses = max_addresses
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def wait_s(self, address: str) -> float:
        """Seconds until `address` may try again (0: now)."""
        times = self._recent(address)
        if times is None or len(times) < self.limit:
            return 0.0
        return max(0.0, times[0] + self.window_s - self.clock())

    def failed(self, address: str) -> None:
        times = self._recent(address)
        if times is None:
            times = self._failures[address] = deque()
            while len(self._failures) > self.max_addresses:
                self._failures.popitem(last=False)
        times.append(self.clock())
        self._failures.move_to_end(address)

    def _recent(self, address: str) -> deque[float] | None:
        times = self._failures.get(address)
        if times is None:
            return None
        horizon = self.clock() - self.window_s
        while times and times[0] <= horizon:
            times.popleft()
        return times


class ThrottleFailedCredentials:
    """ASGI middleware: counts each 401 against the client's address; answers 429 to an
    address past the limit. Wiring: `app.add_middleware(ThrottleFailedCredentials)`."""

    def __init__(self, app: ASGIApp, counter: FailureCounter | None = None) -> None:
        self.app = app
        settings = ThrottleSettings()
        self.counter = counter or FailureCounter(settings.failures, settings.window_s)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        address = (scope.get("client") or ("unknown", 0))[0]
        wait = self.counter.wait_s(address)
        if wait > 0:
            retry = max(1, math.ceil(wait))
            response = JSONResponse(
                {"detail": "too many failed credentials from this address: try again in "
                           f"{retry} s", "error": "too-many-failures"},
                status_code=429, headers={"Retry-After": str(retry)})
            await response(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                self.counter.failed(address)
            await send(message)

        await self.app(scope, receive, counting_send)
