"""The drain's decisions in memory (services/posting/service_layer/drain/): fakes of
its ports (tests/posting/fakes.py) in place of PostgreSQL, Xero and auth."""

import uuid

import pytest

from services.posting.domain.model import Posting, State
from services.posting.domain.records import Claimed
from services.posting.service_layer.drain.drainer import Drainer
from services.posting.service_layer.drain.policy import DrainPolicy
from services.posting.service_layer.ports import XeroUnavailable
from tests.posting.conftest import DAY, Store, day_event
from tests.posting.fakes import FakePostings, FakeXero, NoEarlierJournals
from tests.posting.test_domain import CHART

STORE = Store("store-7", uuid.uuid4(), uuid.uuid4())
POLICY = DrainPolicy(max_attempts=3, backoff_base_s=1.0, backoff_cap_s=1.0,
                     in_flight_grace_s=60.0)


def claim(posting_id: int = 1, attempts: int = 0, newer: int | None = None,
          waits: bool = False, age_s: float = 0.0) -> Claimed:
    posting = Posting.of_event(day_event(STORE, DAY, revision=1), posting_id, State.PENDING,
                               attempts)
    return Claimed(posting, newer, (), waits, age_s)


async def drained(postings: FakePostings, xero: FakeXero) -> None:
    none = NoEarlierJournals()
    drainer = Drainer(postings, xero, xero, POLICY,  # type: ignore[arg-type]
                      none, none, none)
    await drainer.drain_once(STORE.tenant_id)


async def test_a_revision_with_a_newer_one_is_superseded_without_a_call() -> None:
    postings, xero = FakePostings([claim(newer=2)]), FakeXero(CHART)
    await drained(postings, xero)
    (outcome,) = postings.settled
    assert outcome.state is State.SUPERSEDED and outcome.event is not None
    assert "revision 2" in outcome.event.errors[0].message  # type: ignore[union-attr]
    assert xero.calls == [] and postings.marked == []


async def test_a_revision_waits_for_the_earlier_ones_outcome_without_spending_an_attempt(
) -> None:
    postings, xero = FakePostings([claim(waits=True)]), FakeXero(CHART)
    await drained(postings, xero)
    (wait,) = postings.rescheduled
    assert (wait.state, wait.count_attempt) == (State.PENDING, False)
    assert postings.settled == [] and xero.calls == []


async def test_a_day_out_of_attempts_fails_as_retryable() -> None:
    postings, xero = FakePostings([claim(attempts=3)]), FakeXero(CHART)
    await drained(postings, xero)
    (outcome,) = postings.settled
    assert outcome.state is State.FAILED and outcome.event is not None
    assert outcome.event.retryable  # type: ignore[union-attr]
    assert xero.calls == []


@pytest.mark.parametrize(("maybe_processed", "back_to"), [
    (True, State.IN_FLIGHT),   # a timeout: Xero may hold the journal, looked up first
    (False, State.PENDING),    # refused before Xero read it: sent again as it is
])
async def test_xero_unreachable_after_the_mark(maybe_processed: bool, back_to: State) -> None:
    postings, xero = FakePostings([claim(attempts=1)]), FakeXero(CHART)
    xero.failures["put"] = XeroUnavailable("no answer", maybe_processed=maybe_processed)
    await drained(postings, xero)
    assert xero.calls == ["put"] and postings.marked == [1]
    (retry,) = postings.rescheduled
    # The mark counted the attempt: the wait counts none, and the writes expect the mark.
    assert (retry.state, retry.count_attempt) == (back_to, False)
    assert postings.expected == {1: 2} and postings.settled == []


@pytest.mark.parametrize("budget_spent", [True, False])
async def test_a_day_past_its_age_is_given_up_unless_it_waited_for_xeros_daily_budget(
        budget_spent: bool) -> None:
    postings = FakePostings([claim(attempts=1, age_s=POLICY.max_age_s + 1)])
    xero = FakeXero(CHART)
    xero.day_spent = budget_spent
    xero.failures["put"] = XeroUnavailable("no answer", maybe_processed=False)
    await drained(postings, xero)
    assert xero.day_questions == 1
    if budget_spent:  # the wait was Xero's limit: sent again
        assert xero.calls == ["put"] and postings.settled == []
    else:
        (outcome,) = postings.settled
        assert outcome.state is State.FAILED and "hours" in (outcome.last_error or "")
        assert xero.calls == []


async def test_the_daily_budget_is_not_asked_about_for_a_day_within_its_age() -> None:
    postings, xero = FakePostings([claim(attempts=1)]), FakeXero(CHART)
    xero.failures["put"] = XeroUnavailable("no answer", maybe_processed=False)
    await drained(postings, xero)
    assert xero.day_questions == 0 and xero.calls == ["put"]
