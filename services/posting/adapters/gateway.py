"""Every call to Xero goes through here: within the budget all replicas share, with a
token from auth, a 401 answered by asking auth for a new token once, and Xero's
rate headers fed back into the budget."""

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import TypeVar
from uuid import UUID

from services.posting.adapters.auth import AuthClient
from services.posting.adapters.day_budget import DayBudget
from services.posting.adapters.xero import XeroClient, scopes_of
from services.posting.domain import budget
from services.posting.domain.records import RateInfo
from services.posting.metrics import (
    BUDGET_WAIT_SECONDS,
    TOKEN_SECONDS,
    XERO_429,
    XERO_CALLS,
    XERO_SECONDS,
)
from services.posting.service_layer.ports import (
    Call,
    DayBudgetSpent,
    RateBudget,
    Throttled,
    TokenRejected,
    XeroError,
    XeroForbidden,
    XeroRateLimited,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class XeroGateway:
    def __init__(
        self,
        budget: RateBudget,
        xero: XeroClient,
        auth: AuthClient,
        limits: budget.Limits,
        max_inline_wait_s: float = 3.0,
        day: DayBudget | None = None,
    ) -> None:
        self.budget = budget
        self.xero = xero
        self.auth = auth
        self.limits = limits
        self.max_inline_wait_s = max_inline_wait_s
        self.day = day
        # What Xero's last answer said of each organisation's minute, and when (monotonic).
        self._minute_left: dict[UUID, tuple[int, float]] = {}

    def minute_remaining(self, tenant_id: UUID) -> int | None:
        """Calls left in the organisation's minute by Xero's last answer (X-MinLimit-
        Remaining), if that answer is from the last minute."""
        seen = self._minute_left.get(tenant_id)
        if seen is None or time.monotonic() - seen[1] > 60.0:
            return None
        return seen[0]

    async def call(
        self, operation: str, tenant_id: UUID, connection_id: UUID, send: Call[T]
    ) -> T:
        with TOKEN_SECONDS.time():
            token = await self.auth.token(connection_id)
        for attempt in (1, 2):
            await self.check_day_budget(tenant_id)
            with BUDGET_WAIT_SECONDS.time():
                slot = await self._acquire(tenant_id)
            try:
                with XERO_SECONDS.labels(operation).time():
                    result, rate = await send(token.value)
            except TokenRejected as exc:
                await self._release(tenant_id, slot, exc.rate, answered=True)
                XERO_CALLS.labels(operation, "401").inc()
                if attempt == 2:
                    raise
                token = await self.auth.rejected(connection_id, token.value)
                continue
            except XeroError as exc:
                await self._release(tenant_id, slot, exc.rate, answered=True)
                XERO_CALLS.labels(operation, type(exc).__name__).inc()
                if isinstance(exc, XeroForbidden):
                    exc.operation, exc.granted = operation, scopes_of(token.value)
                if isinstance(exc, XeroRateLimited):
                    XERO_429.inc()
                    log.warning("Xero rate limited tenant %s: %s", tenant_id, exc.rate)
                raise
            except BaseException:
                await self._release(tenant_id, slot, RateInfo())
                raise
            await self._release(tenant_id, slot, rate, answered=True)
            XERO_CALLS.labels(operation, "ok").inc()
            return result
        raise AssertionError("unreachable")

    async def day_spent_within(self, tenant_id: UUID, seconds: float) -> bool:
        """Whether the organisation's daily budget ran out within the last `seconds`."""
        return self.day is not None and await self.day.spent_within(tenant_id, seconds)

    async def check_day_budget(self, tenant_id: UUID) -> None:
        """Raises DayBudgetSpent while the organisation's daily budget is spent."""
        if self.day is not None and (until := await self.day.next_call_at(tenant_id)):
            raise DayBudgetSpent(until)

    async def _acquire(self, tenant_id: UUID) -> datetime:
        while True:
            wait, slot = await self.budget.acquire_call(tenant_id, self.limits)
            if isinstance(slot, datetime):
                return slot
            if wait > self.max_inline_wait_s:
                raise Throttled(wait)
            await asyncio.sleep(wait)

    async def _release(self, tenant_id: UUID, slot: datetime, rate: RateInfo,
                       answered: bool = False) -> None:
        if rate.min_remaining is not None:
            self._minute_left[tenant_id] = (rate.min_remaining, time.monotonic())
        # A day 429's Retry-After (hours) is the day budget's; the minute budget waits a
        # minute at most for it.
        retry_after = rate.retry_after_s
        if rate.problem == "day" and retry_after is not None:
            retry_after = min(retry_after, 60.0)
        block = budget.blocked_after_answer(
            datetime.now(UTC), retry_after, rate.min_remaining
        )
        try:
            # An answered call is counted in the organisation's day by the same statement.
            await self.budget.release_call(tenant_id, slot, block, rate if answered else None)
        except Exception:
            # The slot expires by itself, and a missed count is made good by Xero's own
            # remaining count: the outcome matters more.
            log.exception("could not end a Xero call of %s", tenant_id)
