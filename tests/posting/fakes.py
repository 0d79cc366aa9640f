"""In-memory stand-ins for posting's ports, for unit tests of the domain and the service
layer: the same decisions as the PostgreSQL adapters, a list of rows instead of tables."""

from collections.abc import Sequence
from typing import Any

from services.posting.domain.model import Posting, State, failed, superseded_error
from services.posting.domain.revisions import DayRow, Recorded, RecordingPlan
from shared.contracts.events import Event, StoreTotalsClosed


def _posting(row: DayRow) -> Posting:
    event: StoreTotalsClosed = row["event"]
    return Posting.of_event(event, row["id"], State(row["state"]), row["attempts"])


class FakeRecording:
    """The postings table as the consumer's recording sees it (`record_many`), applying
    a batch's plan in the order the PostgreSQL repository does: inserts, supersedes,
    reopens (only of a posting still failed with no journal), then the plan's events."""

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
        self._apply(plan)
        return results

    def _apply(self, plan: RecordingPlan) -> None:
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
        self.published += plan.events


def _read(row: DayRow) -> DayRow:
    """A row as the recording's query returns it: a copy the plan may change."""
    return {key: row[key] for key in
            ("id", "store_id", "business_date", "revision", "state", "outcome", "event_id",
             "journal_id")}
