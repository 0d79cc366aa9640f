"""What a batch of `store-totals-closed` events does to the postings table, decided in
memory inside the recording transaction (`Repository.record_many` holds the days' locks
and writes the plan): a new posting, a repeat of a known outcome, a superseded revision,
or a failed day reopened as a new attempt (`reposts.py`)."""

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import uuid4

from services.posting.adapters.reposts import Reopen, reopening
from services.posting.domain.model import (
    Posting,
    State,
    failed,
    narration_of,
    superseded_error,
)
from shared.contracts.events import (
    Event,
    GlPostingFailed,
    GlPostingSucceeded,
    StoreTotalsClosed,
)


class Recorded(StrEnum):
    NEW = "new"
    ALREADY_PENDING = "already-pending"
    REPUBLISHED = "republished"
    REOPENED = "reopened"
    SUPERSEDED = "superseded"


class RecordingPlan:
    """What a batch of events does to the postings table, decided in memory."""

    def __init__(self) -> None:
        self.inserts: list[tuple[StoreTotalsClosed, State, Event | None]] = []
        self.events: list[Event] = []
        self.supersede: dict[int, list[int]] = {}
        self.reopen: list[Reopen] = []

    def decide(self, event: StoreTotalsClosed, day: list[dict[str, Any]]) -> Recorded:
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

    def _again(self, event: StoreTotalsClosed, same: dict[str, Any]) -> Recorded:
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
        day: list[dict[str, Any]],
    ) -> None:
        self.inserts.append((event, state, outcome))
        if outcome is not None:
            self.events.append(outcome)
        day.append({"id": None, "revision": event.revision, "state": state,
                    "outcome": outcome.model_dump_json() if outcome else None,
                    "index": len(self.inserts) - 1})

    def _supersede_new(self, row: dict[str, Any], revision: int) -> None:
        event = self.inserts[row["index"]][0]
        outcome = failed(_unsaved(event), [superseded_error(revision)])
        self.inserts[row["index"]] = (event, State.SUPERSEDED, outcome)
        self.events.append(outcome)
        row["outcome"] = outcome.model_dump_json()


def _unsaved(event: StoreTotalsClosed) -> Posting:
    return Posting.of_event(event, 0, State.PENDING, 0)


def plan_columns(
    inserts: Sequence[tuple[StoreTotalsClosed, State, Event | None]],
) -> list[list[Any]]:
    events = [e for e, _, _ in inserts]
    return [
        [e.store_id for e in events],
        [e.business_date for e in events],
        [e.revision for e in events],
        [e.tenant_id for e in events],
        [e.connection_id for e in events],
        [e.event_id for e in events],
        [e.correlation_id for e in events],
        [narration_of(e) for e in events],
        [e.model_dump_json() for e in events],
        [state.value for _, state, _ in inserts],
        [o.model_dump_json() if o else None for _, _, o in inserts],
    ]


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
