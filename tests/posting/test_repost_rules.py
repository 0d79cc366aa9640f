"""A day asked for again, pure: a failed day is a new attempt against a fresh chart, a day
already posted is never posted again, and a redelivery only repeats its outcome."""

import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.posting.domain.model import State
from services.posting.domain.repost import (
    RecordedRevision,
    Reopen,
    SameRevision,
    attempt_state,
    decide_same_revision,
    needs_fresh_chart,
    put_tag,
    reopening,
)
from tests.posting.conftest import DAY, Store, day_event

STORE = Store("store-1", uuid4(), uuid4())
NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize("state", list(State))
def test_a_revision_on_its_way_is_left_to_finish(state: State) -> None:
    recorded = RecordedRevision(state, uuid4(), settled=False, journal_in_xero=False)
    assert decide_same_revision(recorded, uuid4()) is SameRevision.ALREADY_PENDING


def test_only_a_new_request_for_a_failed_day_without_a_journal_is_a_new_attempt() -> None:
    first = uuid4()
    failed = RecordedRevision(State.FAILED, first, settled=True, journal_in_xero=False)
    assert decide_same_revision(failed, uuid4()) is SameRevision.NEW_ATTEMPT
    assert decide_same_revision(failed, first) is SameRevision.REPUBLISH  # a redelivery
    kept = RecordedRevision(State.FAILED, first, settled=True, journal_in_xero=True)
    assert decide_same_revision(kept, uuid4()) is SameRevision.REPUBLISH
    for state in (State.POSTED, State.SUPERSEDED):
        done = RecordedRevision(state, first, settled=True, journal_in_xero=False)
        assert decide_same_revision(done, uuid4()) is SameRevision.REPUBLISH


def test_an_attempt_after_a_retryable_failure_is_looked_up_first() -> None:
    assert attempt_state(True) is State.IN_FLIGHT
    assert attempt_state(False) is State.PENDING


def _row(state: State, event_id: object, retryable: bool = False,
         journal_id: object = None, posting_id: int | None = 7) -> dict[str, object]:
    return {"id": posting_id, "state": state.value, "event_id": event_id,
            "journal_id": journal_id, "outcome": json.dumps({"retryable": retryable})}


@pytest.mark.parametrize(("retryable", "starts"), [(False, State.PENDING),
                                                    (True, State.IN_FLIGHT)])
def test_a_failed_day_asked_for_again_is_reopened(retryable: bool, starts: State) -> None:
    request = day_event(STORE, DAY)
    assert reopening(request, _row(State.FAILED, uuid4(), retryable)) == \
        Reopen(7, request, starts)


def test_nothing_is_reopened_but_a_settled_failure_of_another_request() -> None:
    request = day_event(STORE, DAY)
    assert reopening(request, _row(State.FAILED, uuid4(), posting_id=None)) is None
    assert reopening(request, _row(State.FAILED, request.event_id)) is None
    assert reopening(request, _row(State.FAILED, uuid4(), journal_id=uuid4())) is None
    assert reopening(request, _row(State.POSTED, uuid4())) is None


def test_the_chart_is_read_again_unless_read_after_the_last_request() -> None:
    assert needs_fresh_chart([], NOW) is False
    assert needs_fresh_chart([None, None], None) is False
    asked = [NOW - timedelta(hours=1), None, NOW]
    assert needs_fresh_chart(asked, None) is True
    assert needs_fresh_chart(asked, NOW - timedelta(minutes=1)) is True
    assert needs_fresh_chart(asked, NOW) is False
    assert needs_fresh_chart(asked, NOW + timedelta(seconds=1)) is False


def test_the_put_tag_changes_with_each_new_attempt_of_a_posting() -> None:
    assert put_tag([]) == "put"
    assert put_tag([(3, 0), (9, 0)]) == "put"
    assert put_tag([(9, 2), (3, 1), (5, 0)]) == "put:3.1:9.2"
    assert put_tag([(3, 1)]) != put_tag([(3, 2)])
