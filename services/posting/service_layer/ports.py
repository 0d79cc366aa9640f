"""What the posting service's use cases need of the world, as Protocols, and the errors
the adapters answer with: PostgreSQL implements the storage ones in `adapters/`
(postings, leases, rate_budget, chart_store, earlier, refused, journal_origins), Xero
and auth the others (gateway, xero, auth, charts); the unit tests have in-memory ones
(tests/posting/fakes.py)."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple, Protocol, TypeVar
from uuid import UUID

from services.posting.domain import budget
from services.posting.domain.chart import Chart
from services.posting.domain.day_budget import waiting_message
from services.posting.domain.model import Posting
from services.posting.domain.outcome import JournalResult
from services.posting.domain.records import Claimed, EarlierJournal, Outcome, RateInfo, Reschedule
from services.posting.domain.revisions import Recorded
from services.posting.domain.void_target import JournalOrigin
from shared.contracts.events import StoreTotalsClosed


class Recording(Protocol):
    """The consumer's side: each event's posting recorded before anything else."""

    async def record_many(self, events: Sequence[StoreTotalsClosed]) -> list[Recorded]: ...


class Postings(Protocol):
    """The drain's side of the postings: claims, in-flight marks, outcomes, waits.

    `expected` (posting id → attempts) guards `settle` and `reschedule`: a posting whose
    attempts differ was moved on by another drainer and is left alone (its event unsent).
    """

    async def claim_batch(self, tenant_id: UUID, limit: int) -> list[Claimed]: ...

    async def mark_in_flight(self, postings: Sequence[Posting], grace_s: float) -> set[int]:
        """The ids marked: only postings still at the attempt they were claimed at."""
        ...

    async def settle(self, outcomes: Sequence[Outcome],
                     expected: Mapping[int, int] | None = None) -> None: ...

    async def reschedule(self, items: Sequence[Reschedule],
                         expected: Mapping[int, int] | None = None) -> None: ...

    async def event_body(self, posting_id: int) -> str: ...

    async def mark_voided(self, journal_id: UUID) -> None: ...


class PostingViews(Protocol):
    """Where a day stands, for operators."""

    async def status(self, store_id: str, business_date: date) -> list[dict[str, Any]]: ...

    async def counts(self) -> dict[str, int]: ...


class Claim(NamedTuple):
    """The organisations a claim leased, and how many it was allowed: fewer than asked
    when every replica together drains as many as the installation allows."""

    tenants: list[UUID]
    room: int


class Leases(Protocol):
    """Who drains which organisation, until when."""

    async def claim_tenants(self, owner: str, limit: int, lease_s: float) -> Claim: ...

    async def renew_lease(self, tenant_id: UUID, owner: str, lease_s: float) -> bool: ...

    async def release_lease(self, tenant_id: UUID, owner: str) -> None: ...


class RateBudget(Protocol):
    """Xero's limits, shared by every replica."""

    async def acquire_call(self, tenant_id: UUID, limits: budget.Limits
                           ) -> tuple[float, datetime | None]:
        """(0, slot) when a call may start now, else (seconds to wait, None)."""
        ...

    async def release_call(self, tenant_id: UUID, slot: datetime,
                           block_until: datetime | None,
                           answered: RateInfo | None = None) -> None:
        """Gives the slot back; a call Xero answered (what it said of its limits) is
        counted in the organisation's daily budget too."""
        ...


class ChartStore(Protocol):
    """Each organisation's chart as last read from Xero, shared by the replicas."""

    async def load_chart(self, tenant_id: UUID) -> Mapping[str, Any] | None: ...

    async def save_chart(self, tenant_id: UUID, accounts: str, organisation: str,
                         last_modified: str | None) -> None: ...

    async def mark_chart_stale(self, tenant_id: UUID) -> None: ...


class EarlierJournals(Protocol):
    """The journals an amended day replaces, as they were posted."""

    async def posted_as(self, journal_ids: Sequence[UUID]) -> dict[UUID, EarlierJournal]: ...


class RefusedAttempts(Protocol):
    """Attempts Xero refused with a 429, per posting: they do not count against
    POSTING_MAX_ATTEMPTS (a 429 means Xero did nothing with the request)."""

    async def add(self, posting_ids: Sequence[int]) -> None:
        """One more refused attempt for each posting."""

    async def of(self, posting_ids: Sequence[int]) -> dict[int, int]:
        """The refused attempts of each posting that has any."""


class JournalOrigins(Protocol):
    """Which organisation a journal was posted to."""

    async def origin_of(self, journal_id: UUID) -> JournalOrigin | None: ...


class Charts(Protocol):
    """Each organisation's chart of accounts and lock dates, as the drain reads it."""

    async def get(self, tenant_id: UUID, connection_id: UUID, settings: bool = False
                  ) -> Chart: ...

    def read_at(self, tenant_id: UUID) -> datetime | None:
        """When this process's copy was read from Xero (None: it has none)."""
        ...

    def worth_reading_again(self, tenant_id: UUID, recheck_s: float) -> bool: ...

    async def invalidate(self, tenant_id: UUID) -> None:
        """Read the chart again, whole, before its next use."""
        ...


class XeroApi(Protocol):
    """The Accounting API calls the drain makes; each answers with Xero's rate headers."""

    async def put_journals(self, token: str, tenant_id: UUID,
                           journals: Sequence[Mapping[str, Any]], idempotency_key: str,
                           ) -> tuple[list[JournalResult], RateInfo]: ...

    async def find_journals(self, token: str, tenant_id: UUID, where: str
                            ) -> tuple[list[JournalResult], RateInfo]: ...

    async def get_journal(self, token: str, tenant_id: UUID, journal_id: UUID
                          ) -> tuple[JournalResult | None, RateInfo]: ...

    async def void_journal(self, token: str, tenant_id: UUID, journal_id: UUID,
                           idempotency_key: str, journal: Mapping[str, Any],
                           status: str = "VOIDED",
                           ) -> tuple[JournalResult | None, RateInfo]: ...

    async def create_tracking_option(self, token: str, tenant_id: UUID, category_id: str,
                                     name: str, idempotency_key: str,
                                     ) -> tuple[None, RateInfo]: ...


T = TypeVar("T")
# One request to Xero, given an access token: its answer and Xero's rate headers.
Call = Callable[[str], Awaitable[tuple[T, RateInfo]]]


class Gateway(Protocol):
    """Every call to Xero, within the organisation's budgets and with a token from auth."""

    @property
    def limits(self) -> budget.Limits: ...

    @property
    def xero(self) -> XeroApi: ...

    def minute_remaining(self, tenant_id: UUID) -> int | None: ...

    async def call(self, operation: str, tenant_id: UUID, connection_id: UUID, send: Call[T]
                   ) -> T: ...

    async def day_spent_within(self, tenant_id: UUID, seconds: float) -> bool: ...

    async def check_day_budget(self, tenant_id: UUID) -> None:
        """Raises DayBudgetSpent while the organisation's daily budget is spent."""
        ...


class ReauthNeeded(Exception):
    """The connection needs a new key: permanent for this posting."""


class UnknownConnection(Exception):
    """auth does not know the connection (removed): permanent for this posting."""


class AuthUnavailable(Exception):
    """auth (or Xero behind it) cannot give a token now: retry later."""


class Throttled(Exception):
    """The organisation's budget is spent for longer than is worth waiting in line."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"Xero budget spent for {wait_s:.1f}s")
        self.wait_s = wait_s


class DayBudgetSpent(Exception):
    """The organisation's daily Xero budget is spent until `until`."""

    def __init__(self, until: datetime) -> None:
        super().__init__(waiting_message(until))
        self.until = until


class XeroError(Exception):
    def __init__(self, message: str, rate: RateInfo | None = None) -> None:
        super().__init__(message)
        self.rate = rate or RateInfo()


class TokenRejected(XeroError):
    """401: the access token is expired or revoked: ask auth for a new one."""


class XeroForbidden(XeroError):
    """403: disconnected, a scope missing or a role that may not: permanent for the caller.
    The gateway adds which operation it was and the scopes the token carried."""

    operation: str = ""
    granted: list[str] | None = None


class XeroRateLimited(XeroError):
    """429: a limit was breached; `rate.retry_after_s` says when to come back."""


class XeroUnavailable(XeroError):
    """5xx, timeouts, dropped connections. `maybe_processed`: Xero may have acted;
    `answered`: Xero finished with the request (so it is not still working on it)."""

    def __init__(
        self, message: str, maybe_processed: bool, rate: RateInfo | None = None,
        answered: bool = False,
    ) -> None:
        super().__init__(message, rate)
        self.maybe_processed = maybe_processed
        self.answered = answered


class XeroRefused(XeroError):
    """400 for the whole request: `results` carries any per-journal detail."""

    def __init__(self, message: str, results: list[JournalResult], rate: RateInfo) -> None:
        super().__init__(message, rate)
        self.results = results
