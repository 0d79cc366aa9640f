"""A day asked for again: what a second `store-totals-closed` of a recorded revision does.

A manager (the POS's reprint with "post to Xero", the ops page's Retry) asks for a day
whose last outcome is `failed` after fixing the cause in Xero: that is a new attempt,
checked against a fresh read of the organisation. A day already posted is never posted
again, and a redelivery of the very event already recorded only repeats its outcome.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from services.posting.domain.model import State
from shared.contracts.events import StoreTotalsClosed


class SameRevision(StrEnum):
    ALREADY_PENDING = "already-pending"  # on its way: the outcome will follow
    REPUBLISH = "republish"  # the known outcome again (posted, superseded, a redelivery)
    NEW_ATTEMPT = "new-attempt"  # failed before: try again against a fresh chart


@dataclass(frozen=True)
class RecordedRevision:
    """What the postings table holds for the revision asked for again."""

    state: State
    event_id: UUID
    settled: bool
    # Xero created a journal for it (a failure after Xero kept part of it: a dropped line).
    journal_in_xero: bool


def decide_same_revision(recorded: RecordedRevision, request_event_id: UUID) -> SameRevision:
    if not recorded.settled:
        return SameRevision.ALREADY_PENDING
    if (recorded.state is State.FAILED and not recorded.journal_in_xero
            and request_event_id != recorded.event_id):
        # A new request, not the broker redelivering the one that failed. A failure with a
        # journal in Xero is replaced by a new revision (which voids it), never re-sent.
        return SameRevision.NEW_ATTEMPT
    return SameRevision.REPUBLISH


def attempt_state(failure_was_retryable: bool) -> State:
    """How a new attempt starts. A day that failed as retryable (Xero unreachable, every
    attempt spent) may still have reached Xero on an unanswered call: it is looked up by
    its narration first, like any posting left in flight."""
    return State.IN_FLIGHT if failure_was_retryable else State.PENDING


@dataclass(frozen=True)
class Reopen:
    posting_id: int
    request: StoreTotalsClosed
    state: State  # how the attempt starts: pending, or in flight (looked up first)


def reopening(request: StoreTotalsClosed, row: Mapping[str, Any]) -> Reopen | None:
    """The settled posting `row` of the request's revision, reopened if the request is a
    new attempt (above); None when its known outcome is to be repeated."""
    if row.get("id") is None:  # recorded by this very batch: nothing settled to reopen
        return None
    recorded = RecordedRevision(State(row["state"]), row["event_id"], True,
                                row.get("journal_id") is not None)
    if decide_same_revision(recorded, request.event_id) is not SameRevision.NEW_ATTEMPT:
        return None
    retryable = bool(json.loads(row["outcome"]).get("retryable"))
    return Reopen(row["id"], request, attempt_state(retryable))


def needs_fresh_chart(reposted_at: Iterable[datetime | None], chart_read_at: datetime | None
                      ) -> bool:
    """A new attempt is checked against the organisation as it is now: the chart of
    accounts and lock dates are read again unless read after the attempt was asked for."""
    asked = [moment for moment in reposted_at if moment is not None]
    if not asked:
        return False
    return chart_read_at is None or chart_read_at < max(asked)


def put_tag(reposts: Iterable[tuple[int, int]]) -> str:
    """The idempotency tag of a PUT: a new attempt of a posting must not be answered with
    the failure Xero remembers for the earlier one's identical request."""
    again = sorted((posting_id, count) for posting_id, count in reposts if count)
    return "put" + "".join(f":{posting_id}.{count}" for posting_id, count in again)
