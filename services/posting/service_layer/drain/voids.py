"""An amended day: the earlier journal is voided only once the new one is accepted, so a
refused amendment leaves the earlier revision live; until the void is done the new
revision stays in flight (after a crash it is found by narration and the void done)."""

from typing import Any
from uuid import UUID

from services.posting.domain.chart import Chart
from services.posting.domain.model import (
    State,
    failed,
    journal_payload,
    succeeded,
    unvoided_error,
)
from services.posting.domain.outcome import JournalResult
from services.posting.domain.records import Claimed, EarlierJournal, Outcome, Reschedule
from services.posting.domain.reference import idempotency_key
from services.posting.domain.retry import backoff_s
from services.posting.domain.tax import with_rounding
from services.posting.domain.void_target import cannot_reach, not_found_there, void_target
from services.posting.service_layer.drain.bookkeeping import NOT_NOW, Round, after, wait_s
from services.posting.service_layer.drain.policy import DrainPolicy
from services.posting.service_layer.ports import (
    Charts,
    Gateway,
    JournalOrigins,
    Postings,
    ReauthNeeded,
    UnknownConnection,
    XeroRefused,
)
from shared.contracts.events import ErrorKind, PostingError


class Voids:
    def __init__(self, repo: Postings, gateway: Gateway, charts: Charts,
                 origins: JournalOrigins, policy: DrainPolicy) -> None:
        self.repo = repo
        self.gateway = gateway
        self.charts = charts
        self.origins = origins
        self.policy = policy

    async def accepted(
        self, tenant_id: UUID, connection_id: UUID, claimed: Claimed, journal_id: UUID,
        work: Round, already_posted: bool = False,
    ) -> None:
        """Xero holds the posting's journal: void what it replaces, then settle. A void that
        cannot be done now leaves the posting in flight (it is in Xero: a later round finds
        it by narration and voids again), so a crash or an outage between the two steps
        never leaves the day with no live journal, nor with two for good."""
        posting = claimed.posting
        try:
            replaced, problem = await self._void_all(tenant_id, connection_id, claimed, work)
        except NOT_NOW as exc:
            wait = wait_s(exc) or backoff_s(posting.attempts + 1, self.policy.backoff_base_s,
                                            self.policy.backoff_cap_s)
            work.later.append(Reschedule(
                posting.id, State.IN_FLIGHT, after(wait),
                f"posted as {journal_id}; voiding the earlier revision: {exc!r}",
                count_attempt=posting.id not in work.sent,
            ))
            return
        if problem is not None:
            _refused_void(claimed, journal_id, problem, work)
            return
        work.settle(Outcome(
            posting.id, State.POSTED,
            succeeded(posting, journal_id, already_posted=already_posted, replaced=replaced),
            journal_id=journal_id, replaced_journal_id=replaced,
        ))

    async def _void_all(
        self, tenant_id: UUID, connection_id: UUID, claimed: Claimed, work: Round
    ) -> tuple[UUID | None, PostingError | None]:
        replaced = None
        chart = work.chart
        if chart is None and any(e.journal.tax for e in work.earlier.values()):
            # Found in flight, before this round read the chart: a tax-coded journal is
            # voided as it was sent, its rounding line included.
            chart = await self.charts.get(tenant_id, connection_id, True)
        for journal_id in claimed.to_void:
            problem = await self._void(tenant_id, connection_id, journal_id,
                                       work.earlier.get(journal_id), chart)
            if problem is not None:
                return replaced, problem
            replaced = journal_id
        return replaced, None

    async def _void(
        self, tenant_id: UUID, connection_id: UUID, journal_id: UUID,
        earlier: EarlierJournal | None, chart: Chart | None = None,
    ) -> PostingError | None:
        """Voids the earlier journal in the organisation it was posted to (deletes it if it
        is a draft); done if it already is. Not found there is a failure, never done."""
        origin = void_target(await self.origins.origin_of(journal_id), tenant_id, connection_id)
        try:
            return await self._void_in(origin.tenant_id, origin.connection_id, journal_id,
                                       earlier, chart)
        except (ReauthNeeded, UnknownConnection):
            return PostingError(kind=ErrorKind.VALIDATION, message=f"journal {journal_id} "
                                "could not be voided", xero_message=cannot_reach(origin.tenant_id))

    async def _void_in(
        self, tenant_id: UUID, connection_id: UUID, journal_id: UUID,
        earlier: EarlierJournal | None, chart: Chart | None = None,
    ) -> PostingError | None:
        body = await self._as_posted(tenant_id, connection_id, journal_id, earlier, chart)
        result = await self._set_status(tenant_id, connection_id, journal_id, "VOIDED", body)
        if result is None or result.errors:
            current = await self.gateway.call(
                "get", tenant_id, connection_id,
                lambda token: self.gateway.xero.get_journal(token, tenant_id, journal_id),
            )
            if current is None:  # a 404: not in this organisation
                return PostingError(kind=ErrorKind.VALIDATION,
                                    message=f"journal {journal_id} could not be voided",
                                    xero_message=not_found_there(tenant_id))
            status = current.journal_status
            if status == "DRAFT":
                result = await self._set_status(tenant_id, connection_id, journal_id, "DELETED",
                                                body)
                status = "DELETED" if result is not None and not result.errors else status
            if status not in ("VOIDED", "DELETED"):
                message = "; ".join(result.errors) if result else "no answer"
                return PostingError(
                    kind=ErrorKind.VALIDATION,
                    message=f"journal {journal_id} could not be voided",
                    xero_message=message,
                )
        await self.repo.mark_voided(journal_id)
        return None

    async def _as_posted(
        self, tenant_id: UUID, connection_id: UUID, journal_id: UUID,
        earlier: EarlierJournal | None, work_chart: Chart | None,
    ) -> dict[str, Any]:
        """The journal as it was posted (a void sends it whole: see XeroClient.void_journal)."""
        if earlier is not None:
            journal = earlier.journal
            if work_chart is not None:
                journal = with_rounding(journal, work_chart)
            return journal_payload(journal, earlier.narration)
        # Not recorded here (never expected): Xero's own copy gives the narration.
        current = await self.gateway.call(
            "get", tenant_id, connection_id,
            lambda token: self.gateway.xero.get_journal(token, tenant_id, journal_id),
        )
        return {"Narration": current.narration if current is not None else ""}

    async def _set_status(
        self, tenant_id: UUID, connection_id: UUID, journal_id: UUID, status: str,
        body: dict[str, Any],
    ) -> JournalResult | None:
        key = idempotency_key([], f"{status}:{journal_id}")
        try:
            return await self.gateway.call(
                "void", tenant_id, connection_id,
                lambda token: self.gateway.xero.void_journal(
                    token, tenant_id, journal_id, key, body, status
                ),
            )
        except XeroRefused as exc:
            # Already voided (a crash after the void), a draft, or a locked period.
            return exc.results[0] if exc.results else JournalResult(
                "", journal_id, "ERROR", (str(exc),))


def _refused_void(claimed: Claimed, journal_id: UUID, problem: PostingError, work: Round
                  ) -> None:
    error = unvoided_error(journal_id, work.live(claimed), problem.xero_message)
    work.settle(Outcome(claimed.posting.id, State.FAILED, failed(claimed.posting, [error]),
                        journal_id=journal_id, last_error=error.message))
