"""POS requests arriving as messages: the same validation and outcomes as over HTTP.

A message proves the store by its signature, made with the store's key (the key itself
never travels: shared/contracts/pos.py). A request that must be refused is answered
with `pos-request-refused` through the outbox (committed, then published) and acked:
never dropped silently.
"""

import logging
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from services.totals.adapters.pos_requests import PgPosRequestsSeen
from services.totals.domain.journal import Problem, TotalsRefused
from services.totals.domain.pos_requests import untimely
from services.totals.domain.records import SetupRecord
from services.totals.domain.totals import DayTotals
from services.totals.service_layer.days import (
    DayNotFound,
    NotAuthenticated,
    TotalsService,
    problems_from,
)
from shared.contracts.events import Event
from shared.contracts.pos import (
    PosDayClosed,
    PosReprintRequested,
    PosRequestRefused,
    RetiredPosDayClosed,
    RetiredPosReprintRequested,
)
from shared.contracts.pos import Problem as PosProblem

log = logging.getLogger(__name__)

PosRequest = (PosDayClosed | PosReprintRequested | RetiredPosDayClosed
              | RetiredPosReprintRequested)
RETIRED = ("version 1 of this message carried the store's API key, which no message may "
           "carry: send schema_version 2, signed with the key (key_ref and signature, "
           "docs/interfaces.md)")


class PosHandler:
    def __init__(self, service: TotalsService, seen: PgPosRequestsSeen,
                 max_age: timedelta) -> None:
        self.service = service
        self.seen = seen
        self.max_age = max_age

    async def __call__(self, event: Event) -> None:
        if isinstance(event, RetiredPosDayClosed | RetiredPosReprintRequested):
            await self._refuse(event, [Problem(("schema_version",), "retired", RETIRED)])
            return
        if not isinstance(event, PosDayClosed | PosReprintRequested):
            return
        if await self.seen.seen(event.event_id):
            # Handled already: a redelivery, or a copy published again. Its answer went
            # out the first time; acting again could bring back totals since corrected.
            log.info("%s %s was handled already; not again", event.event_type, event.event_id)
            return
        try:
            setup = await self.service.authenticate_signed(event.store_id, event.signed_by)
        except NotAuthenticated as exc:
            # Not remembered: a forged copy must not stop the genuine message of that id.
            await self._refuse(event, [Problem(("signature",), "unauthorized", str(exc))])
            return
        now = datetime.now(UTC)
        await self._answer(event, setup, now)
        await self.seen.remember(event.event_id, forget_before=now - self.max_age)

    async def _answer(self, event: PosDayClosed | PosReprintRequested, setup: SetupRecord,
                      now: datetime) -> None:
        if (problem := untimely(event.occurred_at, now, self.max_age)) is not None:
            await self._refuse(event, [Problem(("occurred_at",), "untimely", problem)])
            return
        try:
            await self._handle(event, setup)
        except TotalsRefused as exc:
            await self._refuse(event, exc.problems)
        except DayNotFound as exc:
            await self._refuse(event, [Problem(("business_date",), "not-found", str(exc))])

    async def _handle(self, event: PosDayClosed | PosReprintRequested,
                      setup: SetupRecord) -> None:
        if isinstance(event, PosDayClosed):
            try:
                totals = DayTotals.model_validate(event.totals)
            except ValidationError as exc:
                raise TotalsRefused(problems_from(exc, ("totals",))) from None
            result = await self.service.close(setup, event.business_date, totals)
            log.info("pos close of %s %s: %s", event.store_id, event.business_date,
                     result.decision.outcome)
        else:
            reprint = await self.service.reprint(setup, event.business_date, event.post_to_xero)
            log.info("pos reprint of %s %s: %s", event.store_id, event.business_date,
                     reprint.post.outcome if reprint.post else "printed")

    async def _refuse(self, event: PosRequest, problems: list[Problem]) -> None:
        refusal = PosRequestRefused(
            correlation_id=event.correlation_id,
            causation_id=str(event.event_id),
            store_id=event.store_id,
            business_date=event.business_date,
            request_type=event.event_type,
            problems=[_wire(p) for p in problems],
        )
        await self.service.publish(refusal)
        log.info("refused %s from store %s: %d problem(s)", event.event_type, event.store_id,
                 len(problems))


def _wire(problem: Problem) -> PosProblem:
    # HTTP locations start with "body" where a message holds its "totals".
    loc = ["totals" if part == "body" else part for part in problem.loc]
    return PosProblem(loc=loc, type=problem.kind, message=problem.message,
                      category=problem.category)
