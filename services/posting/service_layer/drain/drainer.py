"""Draining one organisation: its pending postings go to Xero in batches of up to 50.

The order for each batch, so that every day reaches Xero at most once:
1. postings left in flight (a crash, a timeout) are looked up in Xero by narration
   (`in_flight.py`);
2. the rest are checked against the chart of accounts and lock dates (`chart_check.py`);
3. the batch is marked in flight and committed, then sent (`sending.py`);
4. an amended day's earlier journal is voided only once its replacement is accepted, so
   a refused amendment leaves the earlier revision live; until the void is done the new
   revision stays in flight (after a crash it is found by narration and the void done:
   `voids.py`);
5. outcomes and their events are committed together (the outbox publishes them), and
   days given up on are dead-lettered (`bookkeeping.py`, `dead_letters.py`).
"""

import asyncio
import logging
from datetime import UTC, datetime
from uuid import UUID

from services.posting.domain.batching import group_by, linger_s
from services.posting.domain.day_budget import waiting_message
from services.posting.domain.forbidden import forbidden_error, reauth_error
from services.posting.domain.records import Claimed
from services.posting.domain.repost import needs_fresh_chart
from services.posting.metrics import BATCH_SECONDS
from services.posting.service_layer.drain.bookkeeping import Round, after, needs_settings
from services.posting.service_layer.drain.chart_check import ChartCheck
from services.posting.service_layer.drain.dead_letters import dead_letter
from services.posting.service_layer.drain.in_flight import InFlightLookup
from services.posting.service_layer.drain.policy import Allowance, DrainPolicy
from services.posting.service_layer.drain.sending import Sender
from services.posting.service_layer.drain.triage import (
    give_up_exhausted,
    refused_of,
    supersede_or_wait,
)
from services.posting.service_layer.drain.voids import Voids
from services.posting.service_layer.ports import (
    AuthUnavailable,
    Charts,
    DayBudgetSpent,
    EarlierJournals,
    Gateway,
    JournalOrigins,
    Postings,
    ReauthNeeded,
    RefusedAttempts,
    Throttled,
    TokenRejected,
    UnknownConnection,
    XeroForbidden,
    XeroRateLimited,
    XeroRefused,
    XeroUnavailable,
)
from shared.contracts.events import ErrorKind, PostingError
from shared.messaging.broker import Broker

log = logging.getLogger(__name__)


class Drainer:
    def __init__(
        self,
        repo: Postings,
        gateway: Gateway,
        charts: Charts,
        policy: DrainPolicy,
        earlier: EarlierJournals,
        refused: RefusedAttempts,
        origins: JournalOrigins,
        broker: Broker | None = None,
    ) -> None:
        self.repo = repo
        self.earlier = earlier
        self.refused = refused
        self.gateway = gateway
        self.charts = charts
        self.policy = policy
        self.broker = broker
        self.allowance = Allowance(policy.max_claimed)
        voids = Voids(repo, gateway, charts, origins, policy)
        self.in_flight = InFlightLookup(gateway, voids, policy)
        self.chart_check = ChartCheck(gateway, charts, policy)
        self.sender = Sender(repo, gateway, charts, voids, policy)

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
            work = Round()
            try:
                await self._process(tenant_id, connection_id, items, work)
            except Exception as exc:
                # A bug or our own outage: back off instead of spinning on the same rows.
                log.exception("drain of tenant %s failed", tenant_id)
                work.retry_all(items, exc, self.policy)
            finally:
                # Written only where no other drainer has moved a posting on since it was
                # claimed (two drains overlapped: see PostgresPostings.mark_in_flight).
                expected = work.attempts_left(items)
                await self.repo.settle(work.outcomes, expected)
                await self.repo.reschedule(work.later, expected)
                await dead_letter(self.repo, self.broker, work.given_up)

    async def _process(
        self, tenant_id: UUID, connection_id: UUID, items: list[Claimed], work: Round
    ) -> None:
        open_items = list(items)
        try:
            work.earlier = await self.earlier.posted_as(
                [journal_id for c in items for journal_id in c.to_void])
            open_items = await self.in_flight.resolve(tenant_id, connection_id, open_items,
                                                      work)
            open_items = supersede_or_wait(open_items, work)
            # Days that waited for the organisation's daily budget are not given up for
            # their age: the wait was Xero's limit, not Xero being unreachable. Asked only
            # when a day is that old (one statement less for every other batch).
            waited = any(c.age_s > self.policy.max_age_s for c in open_items) and \
                await self.gateway.day_spent_within(tenant_id, self.policy.max_age_s)
            open_items = give_up_exhausted(
                open_items, work, self.policy, by_age=not waited,
                refused=await refused_of(self.refused, open_items, self.policy))
            if not open_items:
                return
            if needs_fresh_chart((c.reposted_at for c in open_items),
                                 self.charts.read_at(tenant_id)):
                # A new attempt of a failed day: the organisation as it is now, not the
                # copy its failure was decided on (the manager has just fixed it in Xero).
                await self.charts.invalidate(tenant_id)
            chart = await self.charts.get(tenant_id, connection_id, needs_settings(open_items))
            open_items = await self.chart_check.check(tenant_id, connection_id, open_items,
                                                      chart, work)
            work.chart = chart
            await self.sender.post(tenant_id, connection_id, open_items, work)
        except (ReauthNeeded, UnknownConnection) as exc:
            work.fail_all(open_items, reauth_error(str(exc)))
        except XeroForbidden as exc:
            work.fail_all(open_items, forbidden_error(str(exc), exc.operation, exc.granted))
        except XeroRefused as exc:
            if exc.results:
                raise
            # The whole request refused (400) with no per-journal detail: sending the same
            # request again cannot help.
            work.fail_all(open_items, PostingError(
                kind=ErrorKind.VALIDATION,
                message="Xero refused the day's journal; check the day's totals and Account"
                " Numbers setup, then post again.",
                xero_message=str(exc),
            ))
        except Throttled as exc:
            work.later_all(open_items, exc.wait_s, "Xero budget spent", count=False)
        except DayBudgetSpent as exc:
            wait = (exc.until - datetime.now(UTC)).total_seconds()
            work.later_all(open_items, wait, str(exc), count=False)
        except XeroRateLimited as exc:
            # Xero refused the call before acting on it: no attempt is spent.
            wait = exc.rate.retry_after_s or 60.0
            reason = (waiting_message(after(wait)) if exc.rate.problem == "day"
                      else f"Xero answered 429: {exc}")
            work.later_all(open_items, wait, reason, count=False)
            # A batch marked in flight spent an attempt on the mark: given back here.
            await self.refused.add([c.posting.id for c in open_items
                                    if c.posting.id in work.sent])
        except (XeroUnavailable, AuthUnavailable, TokenRejected) as exc:
            work.retry_all(open_items, exc, self.policy)
