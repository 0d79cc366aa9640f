"""In-memory stand-ins for posting's ports, for unit tests of the domain and the service
layer: the same decisions as the PostgreSQL adapters, a list of rows instead of tables."""

import copy
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from services.posting.domain import budget
from services.posting.domain.chart import Chart
from services.posting.domain.model import Posting, State, failed, superseded_error
from services.posting.domain.records import Claimed, Outcome, Reschedule
from services.posting.domain.revisions import DayRow, Recorded, RecordingPlan
from services.posting.service_layer.unit_of_work import Day, PostingUnitOfWork
from shared.contracts.events import Event, StoreTotalsClosed


def _posting(row: DayRow) -> Posting:
    event: StoreTotalsClosed = row["event"]
    return Posting.of_event(event, row["id"], State(row["state"]), row["attempts"])


class FakeRecording:
    """The postings table as the consumer's recording sees it (`record_many`), applying
    a batch's plan in the order the PostgreSQL unit of work does: inserts, supersedes
    (their events with them), reopens (only of a posting still failed with no journal),
    then the plan's events."""

    def __init__(self) -> None:
        self.rows: list[DayRow] = []
        self.published: list[Event] = []

    def day(self, store_id: str, business_date: Any) -> list[DayRow]:
        return [row for row in self.rows
                if (row["store_id"], row["business_date"]) == (store_id, business_date)]

    async def record_many(self, events: Sequence[StoreTotalsClosed]) -> list[Recorded]:
        return self.record(events)

    def record(self, events: Sequence[StoreTotalsClosed]) -> list[Recorded]:
        days: dict[tuple[str, Any], list[DayRow]] = {}
        for event in events:
            key = (event.store_id, event.business_date)
            if key not in days:
                days[key] = [_read(row) for row in self.day(*key)]
        plan = RecordingPlan()
        results = [plan.decide(e, days[(e.store_id, e.business_date)]) for e in events]
        self.apply(plan)
        self.published += plan.events
        return results

    def apply(self, plan: RecordingPlan) -> None:
        """What `DayRevisions.apply` writes: the plan's own events are not among it."""
        for event, state, outcome in plan.inserts:
            self.rows.append({
                "id": len(self.rows) + 1, "store_id": event.store_id,
                "business_date": event.business_date, "revision": event.revision,
                "state": state, "outcome": outcome.model_dump_json() if outcome else None,
                "event_id": event.event_id, "journal_id": None, "event": event,
                "attempts": 0,
            })
        by_id = {row["id"]: row for row in self.rows}
        for revision, ids in plan.supersede.items():
            for posting_id in ids:
                row = by_id[posting_id]
                outcome = failed(_posting(row), [superseded_error(revision)])
                row.update(state=State.SUPERSEDED, outcome=outcome.model_dump_json())
                self.published.append(outcome)
        for reopen in plan.reopen:
            row = by_id[reopen.posting_id]
            if row["state"] == State.FAILED and row["journal_id"] is None:
                row.update(state=reopen.state, attempts=0, outcome=None,
                           event_id=reopen.request.event_id, event=reopen.request)


def _read(row: DayRow) -> DayRow:
    """A row as the recording's query returns it: a copy the plan may change."""
    return {key: row[key] for key in
            ("id", "store_id", "business_date", "revision", "state", "outcome", "event_id",
             "journal_id")}


class FakeDayRevisions:
    """`DayRevisions` over a `FakeRecording`'s rows (no locks: one event loop)."""

    def __init__(self, table: FakeRecording) -> None:
        self.table = table

    async def record_if_unseen(self, days: Sequence[Day], plan: RecordingPlan) -> bool:
        if any(self.table.day(*day) for day in days):
            return False
        self.table.apply(plan)
        return True

    async def lock_and_read(self, days: Sequence[Day]) -> dict[Day, list[DayRow]]:
        return {day: [_read(row) for row in self.table.day(*day)] for day in days
                if self.table.day(*day)}

    async def apply(self, plan: RecordingPlan) -> None:
        self.table.apply(plan)


class FakeUnitOfWork(PostingUnitOfWork):
    """Commits by keeping what was written and adding its events to the table's; a
    rollback puts the rows back and drops the events written with them."""

    def __init__(self, table: FakeRecording, revisions: FakeDayRevisions | None = None
                 ) -> None:
        super().__init__()
        self.table = table
        self.revisions = revisions or FakeDayRevisions(table)
        self.commits = 0
        self._before: tuple[list[DayRow], int] | None = None

    async def _begin(self) -> None:
        self._before = (copy.deepcopy(self.table.rows), len(self.table.published))

    async def _end(self) -> None:
        pass

    async def _commit(self, events: list[Event]) -> None:
        self.table.published += events
        self._before = None
        self.commits += 1

    async def rollback(self) -> None:
        self._new_events = []
        if self._before is not None:
            self.table.rows, published = self._before
            del self.table.published[published:]
            self._before = None


class FakePostings:
    """The drain's `Postings`: a batch to claim, and what the drain wrote back."""

    def __init__(self, claims: Sequence[Claimed] = ()) -> None:
        self.claims = list(claims)
        self.marked: list[int] = []
        self.settled: list[Outcome] = []
        self.rescheduled: list[Reschedule] = []
        self.expected: dict[int, int] = {}

    async def claim_batch(self, tenant_id: UUID, limit: int) -> list[Claimed]:
        taken, self.claims = self.claims[:limit], self.claims[limit:]
        return taken

    async def mark_in_flight(self, postings: Sequence[Posting], grace_s: float) -> set[int]:
        self.marked += [p.id for p in postings]
        return {p.id for p in postings}

    async def settle(self, outcomes: Sequence[Outcome],
                     expected: Mapping[int, int] | None = None) -> None:
        self.settled += outcomes
        self.expected.update(expected or {})

    async def reschedule(self, items: Sequence[Reschedule],
                         expected: Mapping[int, int] | None = None) -> None:
        self.rescheduled += items
        self.expected.update(expected or {})

    async def event_body(self, posting_id: int) -> str:
        raise AssertionError("no dead letters without a broker")

    async def mark_voided(self, journal_id: UUID) -> None:
        pass


class FakeXero:
    """The gateway's way to Xero: a call answers `answers[operation]` or raises
    `failures[operation]`; every operation called is kept in `calls`."""

    def __init__(self, chart: Chart) -> None:
        self.chart = chart
        self.limits = budget.Limits(per_minute=60, concurrent=5)
        self.answers: dict[str, Any] = {}
        self.failures: dict[str, Exception] = {}
        self.calls: list[str] = []
        # Whether the organisation's daily budget ran out lately, and how often asked.
        self.day_spent = False
        self.day_questions = 0

    # --- as XeroGateway ---

    def minute_remaining(self, tenant_id: UUID) -> int | None:
        return None

    async def day_spent_within(self, tenant_id: UUID, seconds: float) -> bool:
        self.day_questions += 1
        return self.day_spent

    async def check_day_budget(self, tenant_id: UUID) -> None:
        pass

    async def call(self, operation: str, tenant_id: UUID, connection_id: UUID,
                   send: Any) -> Any:
        self.calls.append(operation)
        if operation in self.failures:
            raise self.failures[operation]
        return self.answers[operation]

    # --- as ChartCache ---

    async def get(self, tenant_id: UUID, connection_id: UUID, settings: bool = False
                  ) -> Chart:
        return self.chart

    def read_at(self, tenant_id: UUID) -> datetime | None:
        return datetime.now(UTC)

    def worth_reading_again(self, tenant_id: UUID, recheck_s: float) -> bool:
        return False

    async def invalidate(self, tenant_id: UUID) -> None:
        pass


class NoEarlierJournals:
    """`EarlierJournals`, `RefusedAttempts` and `JournalOrigins` with nothing recorded."""

    async def posted_as(self, journal_ids: Sequence[UUID]) -> dict[UUID, Any]:
        return {}

    async def of(self, posting_ids: Sequence[int]) -> dict[int, int]:
        return {}

    async def add(self, posting_ids: Sequence[int]) -> None:
        pass

    async def origin_of(self, journal_id: UUID) -> None:
        return None
