"""Sending a batch: marked in flight and committed first (the mark spends an attempt),
then sent with `summarizeErrors=false`, and each journal's answer judged."""

import logging
from uuid import UUID

from services.posting.domain.model import State, journal_payload
from services.posting.domain.outcome import is_account_error, judge
from services.posting.domain.records import Claimed, Reschedule
from services.posting.domain.reference import idempotency_key
from services.posting.domain.repost import put_tag
from services.posting.domain.tax import with_rounding
from services.posting.metrics import BATCH_SIZE
from services.posting.service_layer.drain.bookkeeping import Round, after
from services.posting.service_layer.drain.policy import DrainPolicy
from services.posting.service_layer.drain.voids import Voids
from services.posting.service_layer.ports import Charts, Gateway, Postings, XeroRefused

log = logging.getLogger(__name__)


class Sender:
    def __init__(self, repo: Postings, gateway: Gateway, charts: Charts,
                 voids: Voids, policy: DrainPolicy) -> None:
        self.repo = repo
        self.gateway = gateway
        self.charts = charts
        self.voids = voids
        self.policy = policy

    async def post(
        self, tenant_id: UUID, connection_id: UUID, items: list[Claimed], work: Round
    ) -> None:
        if not items:
            return
        by_id = {c.posting.id: c for c in items}
        claimed = [c.posting for c in items]
        # Before the mark (which spends an attempt): a spent day waits without one.
        await self.gateway.check_day_budget(tenant_id)
        marked = await self.repo.mark_in_flight(claimed, self.policy.in_flight_grace_s)
        postings = [p for p in claimed if p.id in marked]
        if len(postings) < len(claimed):
            log.warning("%d postings of tenant %s were marked by another drainer first",
                        len(claimed) - len(postings), tenant_id)
            work.elsewhere.update(p.id for p in claimed if p.id not in marked)
        if not postings:
            return
        work.sent.update(p.id for p in postings)
        # The same batch sent again gets Xero's first answer back (while Xero remembers).
        key = idempotency_key([p.id for p in postings],
                              put_tag((c.posting.id, c.reposts) for c in items
                                      if c.posting.id in marked))
        assert work.chart is not None
        chart = work.chart
        payloads = [journal_payload(with_rounding(p.journal, chart), p.narration)
                    for p in postings]
        for posting in postings:
            posting.forget_journal()  # held through the call as the payload only
        BATCH_SIZE.observe(len(payloads))
        try:
            results = await self.gateway.call(
                "put", tenant_id, connection_id,
                lambda token: self.gateway.xero.put_journals(token, tenant_id, payloads, key),
            )
        except XeroRefused as exc:
            if not exc.results:
                raise
            results = exc.results  # a 400 that still says what each journal got
        by_narration = {r.narration: r for r in results}
        account_trouble = False
        accepted: list[tuple[Claimed, UUID]] = []
        for posting in postings:
            result = by_narration.get(posting.narration)
            if result is None:
                # Not in the answer: the outcome is unknown, so it stays in flight.
                work.later.append(Reschedule(posting.id, State.IN_FLIGHT, after(1.0),
                                             "missing from Xero's answer", count_attempt=False))
                continue
            # The lines name the Account Numbers entry of an error; parsed only then.
            errors = judge(result, with_rounding(posting.journal, chart).lines
                           if result.errors or result.warnings else ())
            if errors:
                account_trouble |= any(is_account_error(e) for e in errors)
                work.refuse(by_id[posting.id], errors, result.journal_id)
            else:
                assert result.journal_id is not None
                accepted.append((by_id[posting.id], result.journal_id))
        if account_trouble:
            await self.charts.invalidate(tenant_id)
        for claimed_item, journal_id in accepted:
            await self.voids.accepted(tenant_id, connection_id, claimed_item, journal_id, work)
