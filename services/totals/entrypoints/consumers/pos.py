"""POS requests arriving as messages: the same validation and outcomes as over HTTP.

A request that must be refused is answered with `pos-request-refused` through the
outbox (committed, then published) and acked: never dropped silently.
"""

import logging

from pydantic import ValidationError

from services.totals.domain.journal import Problem, TotalsRefused
from services.totals.domain.totals import DayTotals
from services.totals.service_layer.days import (
    DayNotFound,
    NotAuthenticated,
    TotalsService,
    WrongStore,
    problems_from,
)
from shared.contracts.events import Event
from shared.contracts.pos import PosDayClosed, PosReprintRequested, PosRequestRefused
from shared.contracts.pos import Problem as PosProblem

log = logging.getLogger(__name__)


class PosHandler:
    def __init__(self, service: TotalsService) -> None:
        self.service = service

    async def __call__(self, event: Event) -> None:
        if not isinstance(event, PosDayClosed | PosReprintRequested):
            return
        try:
            await self._handle(event)
        except (NotAuthenticated, WrongStore) as exc:
            await self._refuse(event, [Problem(("api_key",), "unauthorized", str(exc))])
        except TotalsRefused as exc:
            await self._refuse(event, exc.problems)
        except DayNotFound as exc:
            await self._refuse(event, [Problem(("business_date",), "not-found", str(exc))])

    async def _handle(self, event: PosDayClosed | PosReprintRequested) -> None:
        setup = await self.service.authenticate(event.store_id,
                                                event.api_key.get_secret_value())
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

    async def _refuse(self, event: PosDayClosed | PosReprintRequested,
                      problems: list[Problem]) -> None:
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
