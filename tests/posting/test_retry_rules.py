"""Where a posting whose batch failed goes back to (services/posting/domain/retry.py):
never sent again unseen when Xero may hold it, never an attempt counted twice."""

import random

from hypothesis import given
from hypothesis import strategies as st

from services.posting.domain.model import State
from services.posting.domain.retry import (
    Backoff,
    Failure,
    Retry,
    backoff_s,
    retry_of,
    retry_state,
)

claimed_states = st.sampled_from([State.PENDING, State.IN_FLIGHT])
failures = st.builds(Failure, st.booleans(), st.booleans(), st.booleans())
backoffs = st.builds(Backoff, st.floats(0.01, 10), st.floats(10, 600), st.floats(0, 120))


@given(claimed_states, st.booleans(), failures)
def test_a_posting_xero_may_hold_is_looked_up_before_it_is_sent_again(
        claimed_as: State, sent: bool, failure: Failure) -> None:
    may_hold = (claimed_as is State.IN_FLIGHT
                or (failure.unreachable and failure.maybe_processed)
                or (sent and not failure.unreachable))
    assert (retry_state(claimed_as, sent, failure) is State.IN_FLIGHT) == may_hold


@given(claimed_states, st.booleans(), st.booleans())
def test_xero_surely_untouched_sends_a_pending_posting_again(
        claimed_as: State, sent: bool, answered: bool) -> None:
    failure = Failure(unreachable=True, maybe_processed=False, answered=answered)
    assert retry_state(claimed_as, sent, failure) is claimed_as


@given(claimed_states, st.integers(0, 20), st.booleans(), failures, backoffs,
       st.integers(0, 2**32))
def test_an_attempt_is_counted_once(claimed_as: State, attempts: int, sent: bool,
                                    failure: Failure, backoff: Backoff, seed: int) -> None:
    retry = retry_of(claimed_as, attempts, sent, failure, backoff, random.Random(seed))
    # The mark in flight counted a sent posting's attempt already.
    assert retry.count_attempt is not sent
    assert retry.state in (State.PENDING, State.IN_FLIGHT)


@given(claimed_states, st.integers(0, 20), st.booleans(), failures, backoffs,
       st.integers(0, 2**32))
def test_a_request_xero_may_still_be_working_on_is_not_raced(
        claimed_as: State, attempts: int, sent: bool, failure: Failure, backoff: Backoff,
        seed: int) -> None:
    retry = retry_of(claimed_as, attempts, sent, failure, backoff, random.Random(seed))
    assert 0 <= retry.delay_s <= max(backoff.cap_s, backoff.in_flight_grace_s)
    if failure.unreachable and failure.maybe_processed and not failure.answered:
        assert retry.delay_s >= backoff.in_flight_grace_s


def test_one_failure_of_each_kind() -> None:
    backoff = Backoff(1.0, 1.0, 60.0)
    rng = random.Random(0)
    timeout = Failure(unreachable=True, maybe_processed=True)
    assert retry_of(State.PENDING, 0, True, timeout, backoff, rng) == Retry(
        State.IN_FLIGHT, 60.0, count_attempt=False)
    refused_connection = Failure(unreachable=True)
    retry = retry_of(State.PENDING, 0, True, refused_connection, backoff, rng)
    assert (retry.state, retry.count_attempt) == (State.PENDING, False)
    ours = Failure()
    assert retry_of(State.PENDING, 2, False, ours, backoff, rng).state is State.PENDING
    assert retry_of(State.PENDING, 2, True, ours, backoff, rng).state is State.IN_FLIGHT


class _Draw(random.Random):
    """A draw of the jitter fixed at `value`."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


def test_the_delay_doubles_per_attempt_with_the_jitter_drawn() -> None:
    # Half the step, plus the draw's share of the other half.
    assert [backoff_s(n, 1.0, 100.0, _Draw(0.5)) for n in (0, 1, 2, 3)] == [
        0.75, 0.75, 1.5, 3.0]
    assert backoff_s(9, 1.0, 10.0, _Draw(1.0)) == 10.0
    assert backoff_s(3, 2.0, 100.0, _Draw(0.0)) == 4.0


def test_the_retry_waits_the_backoff_of_the_next_attempt() -> None:
    backoff = Backoff(1.0, 100.0, 50.0)
    assert retry_of(State.PENDING, 2, False, Failure(), backoff, _Draw(0.5)) == Retry(
        State.PENDING, 3.0, count_attempt=True)
    refused = Failure(unreachable=True)
    assert retry_of(State.IN_FLIGHT, 0, False, refused, backoff, _Draw(0.0)) == Retry(
        State.IN_FLIGHT, 0.5, count_attempt=True)
    unanswered = Failure(unreachable=True, maybe_processed=True)
    assert retry_of(State.PENDING, 0, True, unanswered, backoff, _Draw(0.0)).delay_s == 50.0
    answered = Failure(unreachable=True, maybe_processed=True, answered=True)
    assert retry_of(State.PENDING, 0, True, answered, backoff, _Draw(0.0)).delay_s == 0.5
