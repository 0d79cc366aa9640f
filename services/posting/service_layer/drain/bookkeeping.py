"""One round of a drain (a batch of one connection): what it decided for each posting,
outcomes to commit and postings to try again later, written back when the round ends."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from services.posting.domain.chart import Chart
from services.posting.domain.model import Posting, State, amendment_refused_error, failed
from services.posting.domain.records import Claimed, EarlierJournal, Outcome, Reschedule
from services.posting.domain.retry import Backoff, Failure, retry_of
from services.posting.metrics import POSTINGS
from services.posting.service_layer.drain.policy import DrainPolicy
from services.posting.service_layer.ports import (
    AuthUnavailable,
    ReauthNeeded,
    Throttled,
    TokenRejected,
    UnknownConnection,
    XeroForbidden,
    XeroRateLimited,
    XeroUnavailable,
)
from shared.contracts.events import GlPostingFailed, GlPostingSucceeded, PostingError
from shared.logging import correlation_id

log = logging.getLogger(__name__)

# What may pass: the void of an accepted amendment is tried again later.
NOT_NOW = (XeroUnavailable, XeroRateLimited, XeroForbidden, Throttled, AuthUnavailable,
           TokenRejected, ReauthNeeded, UnknownConnection)


@dataclass
class Round:
    """What one batch decided: outcomes to commit, postings to try again later."""

    outcomes: list[Outcome] = field(default_factory=list)
    later: list[Reschedule] = field(default_factory=list)
    given_up: list[tuple[Posting, str]] = field(default_factory=list)
    # Marked in flight (and their attempt counted) in this round.
    sent: set[int] = field(default_factory=set)
    # Claimed, but marked in flight by another drainer first: its to send and settle.
    elsewhere: set[int] = field(default_factory=set)
    # The journals amended days replace, as posted (by journal id).
    earlier: dict[UUID, EarlierJournal] = field(default_factory=dict)
    # The organisation's chart the round checked against.
    chart: Chart | None = None

    def settle(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        POSTINGS.labels(outcome.state.value).inc()
        if outcome.event is not None:
            _log_outcome(outcome, outcome.event)

    def refuse(self, claimed: Claimed, errors: list[PostingError],
               journal_id: UUID | None = None) -> None:
        """The day failed; an amendment's earlier journal is untouched and says so."""
        if claimed.to_void:
            errors = [*errors, amendment_refused_error(self.live(claimed))]
        self.settle(Outcome(claimed.posting.id, State.FAILED, failed(claimed.posting, errors),
                            journal_id=journal_id, last_error=errors[0].message))

    def fail_all(self, items: Sequence[Claimed], error: PostingError) -> None:
        done = self.done()
        for claimed in items:
            if claimed.posting.id not in done:
                self.settle(Outcome(claimed.posting.id, State.FAILED,
                                    failed(claimed.posting, [error]), last_error=error.message))

    def later_all(self, items: Sequence[Claimed], wait_s: float, reason: str,
                  count: bool = True) -> None:
        done = self.done()
        for claimed in items:
            if claimed.posting.id not in done:
                # Known not to have reached Xero (a 429 or our own budget): no lookup needed,
                # unless an earlier attempt left it in flight.
                self.later.append(Reschedule(claimed.posting.id, claimed.posting.state,
                                             after(wait_s), reason, count_attempt=count))

    def retry_all(self, items: Sequence[Claimed], exc: Exception, policy: DrainPolicy) -> None:
        failure = _failure(exc)
        backoff = Backoff(policy.backoff_base_s, policy.backoff_cap_s, policy.in_flight_grace_s)
        done = self.done()
        for claimed in items:
            if claimed.posting.id in done:
                continue
            sent = claimed.posting.id in self.sent
            retry = retry_of(claimed.posting.state, claimed.posting.attempts, sent, failure,
                             backoff)
            self.later.append(Reschedule(claimed.posting.id, retry.state, after(retry.delay_s),
                                         f"{type(exc).__name__}: {exc}",
                                         count_attempt=retry.count_attempt))

    def attempts_left(self, items: Sequence[Claimed]) -> dict[int, int]:
        """Each posting's attempts as this round leaves them: as claimed, plus its own
        mark."""
        return {c.posting.id: c.posting.attempts + (1 if c.posting.id in self.sent else 0)
                for c in items}

    def done(self) -> set[int]:
        """Postings this round has done with: settled here, or another drainer's to
        settle."""
        return {o.posting_id for o in self.outcomes} | self.elsewhere

    def live(self, claimed: Claimed) -> EarlierJournal | UUID:
        """The latest earlier journal of the day still live in Xero (its id when
        unrecorded)."""
        known = [self.earlier[j] for j in claimed.to_void if j in self.earlier]
        if known:
            return max(known, key=lambda e: e.revision)
        return claimed.to_void[-1]


def _log_outcome(outcome: Outcome, event: GlPostingSucceeded | GlPostingFailed) -> None:
    # A batch holds many days: each day's line carries its own correlation id, so one
    # grep follows a day from close to outcome across the services.
    token = correlation_id.set(event.correlation_id)
    try:
        log.info("%s %s rev %d: %s", event.event_type, event.business_date, event.revision,
                 outcome.journal_id or outcome.last_error or outcome.state.value)
    finally:
        correlation_id.reset(token)


def _failure(exc: Exception) -> Failure:
    if isinstance(exc, XeroUnavailable):
        return Failure(unreachable=True, maybe_processed=exc.maybe_processed,
                       answered=exc.answered)
    return Failure()


def wait_s(exc: Exception) -> float | None:
    """How long the answer asked to wait, when it said."""
    if isinstance(exc, Throttled):
        return exc.wait_s
    if isinstance(exc, XeroRateLimited):
        return exc.rate.retry_after_s or 60.0
    return None


def needs_settings(items: Sequence[Claimed]) -> bool:
    """Journals with tax-coded or tracked lines are checked against the organisation's
    tax rates and tracking categories too."""
    return any(line.tax_type or line.tracking
               for c in items for line in c.posting.journal.lines)


def after(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)
