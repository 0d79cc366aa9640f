"""Draining one organisation: its pending postings go to Xero in batches of up to 50.

The order for each batch, so that every day reaches Xero at most once:
1. postings left in flight (a crash, a timeout) are looked up in Xero by narration;
2. the rest are checked against the chart of accounts and lock dates;
3. the batch is marked in flight and committed, then sent (`summarizeErrors=false`);
4. an amended day's earlier journal is voided only once its replacement is accepted, so
   a refused amendment leaves the earlier revision live; until the void is done the new
   revision stays in flight (after a crash it is found by narration and the void done);
5. outcomes and their events are committed together (the outbox publishes them).
"""

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from services.posting.adapters.auth import AuthUnavailable, ReauthNeeded, UnknownConnection
from services.posting.adapters.charts import ChartCache
from services.posting.adapters.earlier import EarlierJournal, EarlierJournals
from services.posting.adapters.gateway import DayBudgetSpent, Throttled, XeroGateway
from services.posting.adapters.journal_origins import JournalOrigins
from services.posting.adapters.refused import RefusedAttempts
from services.posting.adapters.xero import (
    TokenRejected,
    XeroForbidden,
    XeroRateLimited,
    XeroRefused,
    XeroUnavailable,
)
from services.posting.domain.batching import chunks, group_by, linger_s
from services.posting.domain.chart import Chart, check_journal, missing_options
from services.posting.domain.day_budget import waiting_message
from services.posting.domain.forbidden import forbidden_error, reauth_error
from services.posting.domain.model import (
    Posting,
    State,
    amendment_refused_error,
    failed,
    give_up_error,
    journal_payload,
    succeeded,
    superseded_error,
    unvoided_error,
)
from services.posting.domain.outcome import JournalResult, is_account_error, judge
from services.posting.domain.records import Claimed, Outcome, Reschedule
from services.posting.domain.reference import idempotency_key, narration_filter
from services.posting.domain.repost import needs_fresh_chart, put_tag
from services.posting.domain.retry import Backoff, Failure, backoff_s, retry_of
from services.posting.domain.tax import with_rounding
from services.posting.domain.void_target import cannot_reach, not_found_there, void_target
from services.posting.metrics import BATCH_SECONDS, BATCH_SIZE, LOOKUPS_REFUSED, POSTINGS
from services.posting.service_layer.ports import Postings
from shared.contracts.events import (
    ErrorKind,
    GlPostingFailed,
    GlPostingSucceeded,
    PostingError,
    StoreTotalsClosed,
)
from shared.logging import correlation_id
from shared.messaging.broker import Broker
from shared.messaging.topology import POSTING_QUEUE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DrainPolicy:
    batch_size: int = 50
    max_attempts: int = 8
    # A day still not in Xero this long after it arrived fails (retryable) instead.
    max_age_s: float = 86_400.0
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 300.0
    # Narrations looked up in one GET (joined with OR).
    lookup_chunk: int = 10
    # A chart younger than this is not fetched again after a pre-check error.
    chart_recheck_s: float = 5.0
    # A request that got no answer may still be worked on by Xero: it is looked up only
    # after this long (longer than Xero could take), never raced.
    in_flight_grace_s: float = 60.0
    # Postings held by all of a process's drains at once (each parsed journal is ~33 KB):
    # a backlog across many organisations fills batches, and without a bound the
    # process's memory would rise to that high-water mark and stay there.
    max_claimed: int = 400
    # Create missing tracking options in Xero (needs the accounting.settings scope).
    create_tracking_options: bool = False


@dataclass
class _Round:
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


def _log_outcome(outcome: Outcome, event: GlPostingSucceeded | GlPostingFailed) -> None:
    # A batch holds many days: each day's line carries its own correlation id, so one
    # grep follows a day from close to outcome across the services.
    token = correlation_id.set(event.correlation_id)
    try:
        log.info("%s %s rev %d: %s", event.event_type, event.business_date, event.revision,
                 outcome.journal_id or outcome.last_error or outcome.state.value)
    finally:
        correlation_id.reset(token)


class Allowance:
    """A count shared by concurrent takers: `take` waits until some is free and takes up
    to what is asked; `give` returns it."""

    def __init__(self, total: int) -> None:
        self.free = total
        self._freed = asyncio.Event()

    async def take(self, wanted: int) -> int:
        while self.free <= 0:
            self._freed.clear()
            await self._freed.wait()
        taken = min(wanted, self.free)
        self.free -= taken
        return taken

    def give(self, amount: int) -> None:
        self.free += amount
        self._freed.set()


class Drainer:
    def __init__(
        self,
        repo: Postings,
        gateway: XeroGateway,
        charts: ChartCache,
        policy: DrainPolicy,
        earlier: EarlierJournals,
        refused: RefusedAttempts,
        origins: JournalOrigins,
        broker: Broker | None = None,
    ) -> None:
        self.repo = repo
        self.earlier = earlier
        self.refused = refused
        self.origins = origins
        self.gateway = gateway
        self.charts = charts
        self.policy = policy
        self.broker = broker
        self.allowance = Allowance(policy.max_claimed)

    async def drain_once(self, tenant_id: UUID) -> bool:
        """One batch of the organisation; True when it was full (more may be due)."""
        pause = linger_s(self.gateway.minute_remaining(tenant_id), self.gateway.limits.per_minute)
        if pause:
            await asyncio.sleep(pause)
        limit = await self.allowance.take(self.policy.batch_size)
        held = limit
        try:
            claimed = await self.repo.claim_batch(tenant_id, limit)
            # Only what was claimed is held through the call: most batches are short.
            self.allowance.give(limit - len(claimed))
            held = len(claimed)
            if claimed:
                with BATCH_SECONDS.time():
                    await self._batch(tenant_id, claimed)
            return len(claimed) >= limit
        finally:
            self.allowance.give(held)

    async def _batch(self, tenant_id: UUID, claimed: list[Claimed]) -> None:
        for connection_id, items in group_by(claimed, lambda c: c.posting.connection_id).items():
            work = _Round()
            try:
                await self._process(tenant_id, connection_id, items, work)
            except Exception as exc:
                # A bug or our own outage: back off instead of spinning on the same rows.
                log.exception("drain of tenant %s failed", tenant_id)
                self._retry(items, work, exc)
            finally:
                # Written only where no other drainer has moved a posting on since it was
                # claimed (two drains overlapped: see PostgresPostings.mark_in_flight).
                expected = _attempts_left(items, work)
                await self.repo.settle(work.outcomes, expected)
                await self.repo.reschedule(work.later, expected)
                await self._dead_letter(work.given_up)

    async def _process(
        self, tenant_id: UUID, connection_id: UUID, items: list[Claimed], work: _Round
    ) -> None:
        open_items = list(items)
        try:
            work.earlier = await self.earlier.posted_as(
                [journal_id for c in items for journal_id in c.to_void])
            open_items = await self._resolve_in_flight(tenant_id, connection_id, open_items, work)
            open_items = self._supersede_or_wait(open_items, work)
            # Days that waited for the organisation's daily budget are not given up for
            # their age: the wait was Xero's limit, not Xero being unreachable.
            waited = await self.gateway.day_spent_within(tenant_id, self.policy.max_age_s)
            open_items = self._give_up_exhausted(open_items, work, by_age=not waited,
                                                 refused=await self._refused_of(open_items))
            if not open_items:
                return
            if needs_fresh_chart((c.reposted_at for c in open_items),
                                 self.charts.read_at(tenant_id)):
                # A new attempt of a failed day: the organisation as it is now, not the
                # copy its failure was decided on (the manager has just fixed it in Xero).
                await self.charts.invalidate(tenant_id)
            chart = await self.charts.get(tenant_id, connection_id, _needs_settings(open_items))
            open_items = await self._check(tenant_id, connection_id, open_items, chart, work)
            work.chart = chart
            await self._post(tenant_id, connection_id, open_items, work)
        except (ReauthNeeded, UnknownConnection) as exc:
            self._fail_all(open_items, work, reauth_error(str(exc)))
        except XeroForbidden as exc:
            self._fail_all(open_items, work,
                           forbidden_error(str(exc), exc.operation, exc.granted))
        except XeroRefused as exc:
            if exc.results:
                raise
            # The whole request refused (400) with no per-journal detail: sending the same
            # request again cannot help.
            self._fail_all(open_items, work, PostingError(
                kind=ErrorKind.VALIDATION,
                message="Xero refused the day's journal; check the day's totals and Account"
                " Numbers setup, then post again.",
                xero_message=str(exc),
            ))
        except Throttled as exc:
            self._later(open_items, work, exc.wait_s, "Xero budget spent", count=False)
        except DayBudgetSpent as exc:
            wait = (exc.until - datetime.now(UTC)).total_seconds()
            self._later(open_items, work, wait, str(exc), count=False)
        except XeroRateLimited as exc:
            # Xero refused the call before acting on it: no attempt is spent.
            wait = exc.rate.retry_after_s or 60.0
            reason = (waiting_message(_after(wait)) if exc.rate.problem == "day"
                      else f"Xero answered 429: {exc}")
            self._later(open_items, work, wait, reason, count=False)
            # A batch marked in flight spent an attempt on the mark: given back here.
            await self.refused.add([c.posting.id for c in open_items
                                    if c.posting.id in work.sent])
        except (XeroUnavailable, AuthUnavailable, TokenRejected) as exc:
            self._retry(open_items, work, exc)

    # --- 1. what an earlier attempt may already have done ---

    async def _resolve_in_flight(
        self, tenant_id: UUID, connection_id: UUID, items: list[Claimed], work: _Round
    ) -> list[Claimed]:
        unknown = [c for c in items if c.posting.state == State.IN_FLIGHT]
        if not unknown:
            return items
        found: dict[str, JournalResult] = {}
        in_doubt: set[int] = set()
        for group in chunks(unknown, self.policy.lookup_chunk):
            where = " OR ".join(narration_filter(c.posting.narration) for c in group)
            try:
                results = await self.gateway.call(
                    "find", tenant_id, connection_id,
                    lambda token, where=where: self.gateway.xero.find_journals(  # type: ignore[misc]
                        token, tenant_id, where
                    ),
                )
            except XeroRefused as exc:
                # These journals may be in Xero: never failed, never sent again unseen.
                self._in_doubt(group, work, exc)
                in_doubt.update(c.posting.id for c in group)
                continue
            found.update({r.narration: r for r in results if r.journal_id is not None})
        remaining = []
        for claimed in items:
            if claimed.posting.id in in_doubt:
                continue
            hit = found.get(claimed.posting.narration)
            if claimed.posting.state == State.IN_FLIGHT and hit is not None:
                assert hit.journal_id is not None
                log.info("posting %s was already in Xero as %s", claimed.posting.id,
                         hit.journal_id)
                await self._accepted(tenant_id, connection_id, claimed, hit.journal_id, work,
                                     already_posted=True)
            else:
                remaining.append(claimed)
        return remaining

    def _in_doubt(self, group: Sequence[Claimed], work: _Round, exc: XeroRefused) -> None:
        LOOKUPS_REFUSED.inc()
        reason = (f"in doubt: Xero refused the lookup of a journal that may be in Xero ({exc});"
                  " looked up again later")
        log.warning("lookup refused for postings %s: %s", [c.posting.id for c in group], exc)
        for claimed in group:
            delay = backoff_s(claimed.posting.attempts + 1, self.policy.backoff_base_s,
                              self.policy.backoff_cap_s)
            work.later.append(Reschedule(claimed.posting.id, State.IN_FLIGHT, _after(delay),
                                         reason, count_attempt=False))

    # --- 2. revisions of the same day, and attempts spent ---

    def _supersede_or_wait(self, items: list[Claimed], work: _Round) -> list[Claimed]:
        remaining = []
        for claimed in items:
            if claimed.newer_revision is not None:
                work.settle(Outcome(
                    claimed.posting.id, State.SUPERSEDED,
                    failed(claimed.posting, [superseded_error(claimed.newer_revision)]),
                ))
            elif claimed.waits_for_older:
                # An earlier revision's outcome is unknown: it is resolved first.
                work.later.append(Reschedule(
                    claimed.posting.id, State.PENDING, _after(1.0),
                    "waiting for the earlier revision's outcome", count_attempt=False,
                ))
            else:
                remaining.append(claimed)
        return remaining

    async def _refused_of(self, items: list[Claimed]) -> dict[int, int]:
        """Refused (429) attempts, read only for postings near a limit (rarely any)."""
        near = [c.posting.id for c in items if c.posting.attempts >= self.policy.max_attempts
                or (c.age_s > self.policy.max_age_s and c.posting.attempts > 0)]
        return await self.refused.of(near)

    def _give_up_exhausted(self, items: list[Claimed], work: _Round, by_age: bool = True,
                           refused: dict[int, int] | None = None) -> list[Claimed]:
        remaining = []
        for claimed in items:
            spent = claimed.posting.attempts - (refused or {}).get(claimed.posting.id, 0)
            too_old = by_age and claimed.age_s > self.policy.max_age_s and spent > 0
            if spent >= self.policy.max_attempts or too_old:
                reason = f"{claimed.posting.attempts} attempts failed" + (
                    f" over {claimed.age_s / 3600:.1f} hours" if too_old else "")
                error = give_up_error(claimed.posting.attempts, reason,
                                      ErrorKind.XERO_UNAVAILABLE)
                work.settle(Outcome(claimed.posting.id, State.FAILED,
                                    failed(claimed.posting, [error]), last_error=reason))
                work.given_up.append((claimed.posting, reason))
            else:
                remaining.append(claimed)
        return remaining

    # --- 3. the chart of accounts and lock dates ---

    async def _check(
        self, tenant_id: UUID, connection_id: UUID, items: list[Claimed], chart: Chart,
        work: _Round,
    ) -> list[Claimed]:
        if self.policy.create_tracking_options and await self._create_options(
                tenant_id, connection_id, items, chart):
            chart = await self.charts.get(tenant_id, connection_id, True)
        problems = {c.posting.id: check_journal(c.posting.journal, chart) for c in items}
        if any(problems.values()) and self.charts.worth_reading_again(
                tenant_id, self.policy.chart_recheck_s):
            # The manager may just have fixed the chart in Xero: look again before refusing.
            await self.charts.invalidate(tenant_id)
            chart = await self.charts.get(tenant_id, connection_id, _needs_settings(items))
            problems = {c.posting.id: check_journal(c.posting.journal, chart) for c in items}
        remaining = []
        for claimed in items:
            errors = problems[claimed.posting.id]
            if errors:
                self._refused(claimed, errors, work)
            else:
                remaining.append(claimed)
        return remaining

    async def _create_options(
        self, tenant_id: UUID, connection_id: UUID, items: list[Claimed], chart: Chart
    ) -> bool:
        """Creates the tracking options the journals name that Xero lacks; True when one
        was (the chart is then read again). Without the scope Xero answers 403: the days
        then fail naming the option, as with creation off."""
        created = False
        for category_id, name in missing_options((c.posting.journal for c in items), chart):
            key = idempotency_key([], f"option:{category_id}:{name}")
            try:
                await self.gateway.call(
                    "tracking-option", tenant_id, connection_id,
                    lambda token, c=category_id, n=name, k=key: (  # type: ignore[misc]
                        self.gateway.xero.create_tracking_option(token, tenant_id, c, n, k)),
                )
            except (XeroForbidden, XeroRefused) as exc:
                log.warning("tracking option %r not created in %s: %s", name, tenant_id, exc)
                continue
            log.info("created tracking option %r in %s", name, tenant_id)
            created = True
        if created:
            await self.charts.invalidate(tenant_id)
        return created

    # --- 4. an amended day: the earlier journal is voided once the new one is accepted ---

    def _refused(
        self, claimed: Claimed, errors: list[PostingError], work: _Round,
        journal_id: UUID | None = None,
    ) -> None:
        """The day failed; an amendment's earlier journal is untouched and says so."""
        if claimed.to_void:
            errors = [*errors, amendment_refused_error(_live(claimed, work))]
        work.settle(Outcome(claimed.posting.id, State.FAILED, failed(claimed.posting, errors),
                            journal_id=journal_id, last_error=errors[0].message))

    async def _accepted(
        self, tenant_id: UUID, connection_id: UUID, claimed: Claimed, journal_id: UUID,
        work: _Round, already_posted: bool = False,
    ) -> None:
        """Xero holds the posting's journal: void what it replaces, then settle. A void that
        cannot be done now leaves the posting in flight (it is in Xero: a later round finds
        it by narration and voids again), so a crash or an outage between the two steps
        never leaves the day with no live journal, nor with two for good."""
        posting = claimed.posting
        try:
            replaced, problem = await self._void_all(tenant_id, connection_id, claimed, work)
        except _NOT_NOW as exc:
            wait = _wait_s(exc) or backoff_s(posting.attempts + 1, self.policy.backoff_base_s,
                                             self.policy.backoff_cap_s)
            work.later.append(Reschedule(
                posting.id, State.IN_FLIGHT, _after(wait),
                f"posted as {journal_id}; voiding the earlier revision: {exc!r}",
                count_attempt=posting.id not in work.sent,
            ))
            return
        if problem is not None:
            self._refused_void(claimed, journal_id, problem, work)
            return
        work.settle(Outcome(
            posting.id, State.POSTED,
            succeeded(posting, journal_id, already_posted=already_posted, replaced=replaced),
            journal_id=journal_id, replaced_journal_id=replaced,
        ))

    def _refused_void(
        self, claimed: Claimed, journal_id: UUID, problem: PostingError, work: _Round
    ) -> None:
        earlier = _live(claimed, work)
        error = unvoided_error(journal_id, earlier, problem.xero_message)
        work.settle(Outcome(claimed.posting.id, State.FAILED, failed(claimed.posting, [error]),
                            journal_id=journal_id, last_error=error.message))

    async def _void_all(
        self, tenant_id: UUID, connection_id: UUID, claimed: Claimed, work: _Round
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

    # --- 5. the batch itself ---

    async def _post(
        self, tenant_id: UUID, connection_id: UUID, items: list[Claimed], work: _Round
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
                work.later.append(Reschedule(posting.id, State.IN_FLIGHT, _after(1.0),
                                             "missing from Xero's answer", count_attempt=False))
                continue
            # The lines name the Account Numbers entry of an error; parsed only then.
            errors = judge(result, with_rounding(posting.journal, chart).lines
                           if result.errors or result.warnings else ())
            if errors:
                account_trouble |= any(is_account_error(e) for e in errors)
                self._refused(by_id[posting.id], errors, work, result.journal_id)
            else:
                assert result.journal_id is not None
                accepted.append((by_id[posting.id], result.journal_id))
        if account_trouble:
            await self.charts.invalidate(tenant_id)
        for claimed_item, journal_id in accepted:
            await self._accepted(tenant_id, connection_id, claimed_item, journal_id, work)

    # --- failures of the whole batch ---

    def _fail_all(self, items: Sequence[Claimed], work: _Round, error: PostingError) -> None:
        done = _ids(work)
        for claimed in items:
            if claimed.posting.id not in done:
                work.settle(Outcome(claimed.posting.id, State.FAILED,
                                    failed(claimed.posting, [error]), last_error=error.message))

    def _later(
        self, items: Sequence[Claimed], work: _Round, wait_s: float, reason: str,
        count: bool = True,
    ) -> None:
        done = _ids(work)
        for claimed in items:
            if claimed.posting.id not in done:
                # Known not to have reached Xero (a 429 or our own budget): no lookup needed,
                # unless an earlier attempt left it in flight.
                work.later.append(Reschedule(claimed.posting.id, claimed.posting.state,
                                             _after(wait_s), reason, count_attempt=count))

    def _retry(self, items: Sequence[Claimed], work: _Round, exc: Exception) -> None:
        failure = _failure(exc)
        backoff = Backoff(self.policy.backoff_base_s, self.policy.backoff_cap_s,
                          self.policy.in_flight_grace_s)
        done = _ids(work)
        for claimed in items:
            if claimed.posting.id in done:
                continue
            sent = claimed.posting.id in work.sent
            retry = retry_of(claimed.posting.state, claimed.posting.attempts, sent, failure,
                             backoff)
            work.later.append(Reschedule(claimed.posting.id, retry.state, _after(retry.delay_s),
                                         f"{type(exc).__name__}: {exc}",
                                         count_attempt=retry.count_attempt))

    async def _dead_letter(self, given_up: list[tuple[Posting, str]]) -> None:
        if self.broker is None or not given_up:
            return
        for posting, reason in given_up:
            try:
                event = StoreTotalsClosed.model_validate_json(
                    await self.repo.event_body(posting.id))
                await self.broker.dead_letter(event, f"gave up: {reason}", POSTING_QUEUE)
            except Exception:
                log.exception("could not dead-letter posting %s", posting.id)


def _attempts_left(items: Sequence[Claimed], work: _Round) -> dict[int, int]:
    """Each posting's attempts as this round leaves them: as claimed, plus its own mark."""
    return {c.posting.id: c.posting.attempts + (1 if c.posting.id in work.sent else 0)
            for c in items}


def _ids(work: _Round) -> set[int]:
    """Postings this round has done with: settled here, or another drainer's to settle."""
    return {o.posting_id for o in work.outcomes} | work.elsewhere


# What may pass: the void of an accepted amendment is tried again later.
_NOT_NOW = (XeroUnavailable, XeroRateLimited, XeroForbidden, Throttled, AuthUnavailable,
            TokenRejected, ReauthNeeded, UnknownConnection)


def _needs_settings(items: Sequence[Claimed]) -> bool:
    """Journals with tax-coded or tracked lines are checked against the organisation's
    tax rates and tracking categories too."""
    return any(line.tax_type or line.tracking
               for c in items for line in c.posting.journal.lines)


def _failure(exc: Exception) -> Failure:
    if isinstance(exc, XeroUnavailable):
        return Failure(unreachable=True, maybe_processed=exc.maybe_processed,
                       answered=exc.answered)
    return Failure()


def _wait_s(exc: Exception) -> float | None:
    if isinstance(exc, Throttled):
        return exc.wait_s
    if isinstance(exc, XeroRateLimited):
        return exc.rate.retry_after_s or 60.0
    return None


def _live(claimed: Claimed, work: _Round) -> EarlierJournal | UUID:
    """The latest earlier journal of the day still live in Xero (its id when unrecorded)."""
    known = [work.earlier[j] for j in claimed.to_void if j in work.earlier]
    if known:
        return max(known, key=lambda e: e.revision)
    return claimed.to_void[-1]


def _after(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)
