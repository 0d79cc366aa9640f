"""What the posting service's use cases need of storage, as Protocols: PostgreSQL
implements them in `adapters/` (postings, leases, rate_budget, chart_store), the unit
tests in memory (tests/posting/fakes.py)."""

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from services.posting.domain import budget
from services.posting.domain.model import Posting
from services.posting.domain.records import Claimed, Outcome, Reschedule
from services.posting.domain.revisions import Recorded
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


class Leases(Protocol):
    """Who drains which organisation, until when."""

    async def claim_tenants(self, owner: str, limit: int, lease_s: float) -> list[UUID]: ...

    async def renew_lease(self, tenant_id: UUID, owner: str, lease_s: float) -> bool: ...

    async def release_lease(self, tenant_id: UUID, owner: str) -> None: ...


class RateBudget(Protocol):
    """Xero's limits, shared by every replica."""

    async def acquire_call(self, tenant_id: UUID, limits: budget.Limits
                           ) -> tuple[float, datetime | None]:
        """(0, slot) when a call may start now, else (seconds to wait, None)."""
        ...

    async def release_call(self, tenant_id: UUID, slot: datetime,
                           block_until: datetime | None) -> None: ...


class ChartStore(Protocol):
    """Each organisation's chart as last read from Xero, shared by the replicas."""

    async def load_chart(self, tenant_id: UUID) -> Mapping[str, Any] | None: ...

    async def save_chart(self, tenant_id: UUID, accounts: str, organisation: str,
                         last_modified: str | None) -> None: ...

    async def mark_chart_stale(self, tenant_id: UUID) -> None: ...
