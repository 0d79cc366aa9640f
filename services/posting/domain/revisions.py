"""A day's revisions: what a `store-totals-closed` does to the postings of its day.

The rule, for an event of revision r of a day:
- r already recorded: nothing new while it is on its way; a failed day asked for again
  (a new request, not a redelivery) is reopened (`repost.py`); otherwise its known
  outcome is published again, marked as caused by the duplicate;
- a newer revision already recorded: r is recorded as superseded (and says so);
- otherwise r is recorded pending, and every older revision still pending is superseded
  by it (one in flight or posted is left to the drain: it waits, or voids it).

Decided in memory inside the recording transaction, which holds the days' locks and
writes the plan (the postings repository)."""

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import uuid4

from services.posting.domain.model import (
    Posting,
    State,
    failed,
    superseded_error,
)
from services.posting.domain.repost import Reopen, reopening
from shared.contracts.events import (
    Event,
    GlPostingFailed,
    GlPostingSucceeded,
    StoreTotalsClosed,
)

# One revision of a day as the recording reads it: id (None while only planned), revision,
# state, outcome (its event's JSON, None while unsettled), event_id, journal_id; and
# `index` for a revision this batch plans to insert.
DayRow = dict[str, Any]


class Recorded(StrEnum):
    NEW = "new"
    ALREADY_PENDING = "already-pending"
    REPUBLISHED = "republished"
    REOPENED = "reopened"
    SUPERSEDED = "superseded"


class RecordingPlan:
    """What a batch of events does to the postings table, decided in memory.

    `decide` takes the event's day as read from the table (one `DayRow` per revision)
    and updates it in place, so the batch's later events see what earlier ones did."""

    def __init__(self) -> None:
        self.inserts: list[tuple[StoreTotalsClosed, State, Event | None]] = []
        self.events: list[Event] = []
        self.supersede: dict[int, list[int]] = {}
        self.reopen: list[Reopen] = []

    def only_new_postings(self) -> bool:
        """Pending postings to insert and nothing else: what a batch decides when none of
        its days is recorded yet and none comes with two revisions (the older one's
        outcome is an event to publish)."""
        return (bool(self.inserts) and not self.events and not self.supersede
                and not self.reopen)

    def decide(self, event: StoreTotalsClosed, day: list[DayRow]) -> Recorded:
        same = next((r for r in day if r["revision"] == event.revision), None)
        if same is not None:
            return self._again(event, same)
        newest = max((r["revision"] for r in day), default=0)
        if newest > event.revision:
            outcome = failed(_unsaved(event), [superseded_error(newest)])
            self._insert(event, State.SUPERSEDED, outcome, day)
            return Recorded.SUPERSEDED
        for older in day:
            if older["state"] != State.PENDING:
                continue
            older["state"] = State.SUPERSEDED
            if "index" in older:  # inserted by this very batch
                self._supersede_new(older, event.revision)
            else:
                self.supersede.setdefault(event.revision, []).append(older["id"])
        self._insert(event, State.PENDING, None, day)
        return Recorded.NEW

    def _again(self, event: StoreTotalsClosed, same: DayRow) -> Recorded:
        if same["outcome"] is None:
            return Recorded.ALREADY_PENDING
        reopen = reopening(event, same)
        if reopen is not None:
            self.reopen.append(reopen)
            same.update(state=State.PENDING, outcome=None, event_id=event.event_id)
            return Recorded.REOPENED
        self.events.append(republished(same["outcome"], event))
        return Recorded.REPUBLISHED

    def _insert(
        self, event: StoreTotalsClosed, state: State, outcome: Event | None,
        day: list[DayRow],
    ) -> None:
        self.inserts.append((event, state, outcome))
        if outcome is not None:
            self.events.append(outcome)
        day.append({"id": None, "revision": event.revision, "state": state,
                    "outcome": outcome.model_dump_json() if outcome else None,
                    "index": len(self.inserts) - 1})

    def _supersede_new(self, row: DayRow, revision: int) -> None:
        event = self.inserts[row["index"]][0]
        outcome = failed(_unsaved(event), [superseded_error(revision)])
        self.inserts[row["index"]] = (event, State.SUPERSEDED, outcome)
        self.events.append(outcome)
        row["outcome"] = outcome.model_dump_json()


def _unsaved(event: StoreTotalsClosed) -> Posting:
    return Posting.of_event(event, 0, State.PENDING, 0)


def republished(outcome_json: str, cause: StoreTotalsClosed) -> Event:
    """The known outcome again, as a new event caused by the duplicate."""
    data = json.loads(outcome_json)
    data["event_id"] = str(uuid4())
    data["occurred_at"] = datetime.now(UTC).isoformat()
    data["causation_id"] = str(cause.event_id)
    if data.get("event_type") == "gl-posting-succeeded":
        data["already_posted"] = True
        return GlPostingSucceeded.model_validate(data)
    return GlPostingFailed.model_validate(data)
