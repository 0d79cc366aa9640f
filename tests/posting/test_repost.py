"""The rule for a revision asked for again (services/posting/domain/repost.py)."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.posting.domain.model import State
from services.posting.domain.repost import (
    RecordedRevision,
    SameRevision,
    attempt_state,
    decide_same_revision,
    needs_fresh_chart,
    put_tag,
)

FIRST = uuid4()


@pytest.mark.parametrize(
    ("state", "settled", "in_xero", "request_id", "expected"),
    [
        (State.PENDING, False, False, uuid4(), SameRevision.ALREADY_PENDING),
        (State.IN_FLIGHT, False, False, uuid4(), SameRevision.ALREADY_PENDING),
        (State.POSTED, True, True, uuid4(), SameRevision.REPUBLISH),
        (State.SUPERSEDED, True, False, uuid4(), SameRevision.REPUBLISH),
        (State.FAILED, True, False, FIRST, SameRevision.REPUBLISH),  # a redelivery
        (State.FAILED, True, True, uuid4(), SameRevision.REPUBLISH),  # part of it in Xero
        (State.FAILED, True, False, uuid4(), SameRevision.NEW_ATTEMPT),
    ],
    ids=["pending", "in-flight", "posted", "superseded", "redelivered", "line-dropped",
         "asked-again"],
)
def test_only_a_new_request_for_a_failed_day_is_a_new_attempt(
    state, settled, in_xero, request_id, expected
):
    recorded = RecordedRevision(state, FIRST, settled, in_xero)
    assert decide_same_revision(recorded, request_id) is expected


def test_a_day_given_up_on_is_looked_up_in_xero_before_it_is_sent_again():
    assert attempt_state(failure_was_retryable=True) is State.IN_FLIGHT
    assert attempt_state(failure_was_retryable=False) is State.PENDING


def test_a_new_attempt_needs_a_chart_read_after_it_was_asked_for():
    now = datetime.now(UTC)
    assert not needs_fresh_chart([None, None], None)
    assert needs_fresh_chart([now], None)
    assert needs_fresh_chart([None, now], now - timedelta(seconds=1))
    assert not needs_fresh_chart([now], now + timedelta(seconds=1))


def test_each_attempt_of_a_posting_has_its_own_idempotency_tag():
    assert put_tag([(1, 0), (2, 0)]) == "put"  # as before: unchanged keys for first tries
    assert put_tag([(2, 1), (1, 0)]) != put_tag([(2, 2), (1, 0)])
