"""Transient failures: the backoff (exponential with full jitter, capped), and where a
posting whose batch failed goes back to (pending, or in flight to be looked up first)."""

import random
from dataclasses import dataclass

from services.posting.domain.model import State


def backoff_s(attempt: int, base_s: float, cap_s: float, rng: random.Random | None = None) -> float:
    """Delay before attempt `attempt + 1` (attempt counts from 1).

    Jitter spreads retries of many postings that failed together (an outage), so they
    do not return as one burst; the floor of half the step keeps the growth visible.
    """
    step = min(cap_s, base_s * 2.0 ** max(attempt - 1, 0))
    draw = rng.random() if rng else random.random()
    return step / 2 + draw * step / 2


@dataclass(frozen=True)
class Failure:
    """How a batch's call failed, as far as the retry cares."""

    # Xero could not be reached or answered 5xx (else: our own outage, a bug, auth).
    unreachable: bool = False
    # Xero may have acted on the request: only a lookup by narration can tell.
    maybe_processed: bool = False
    # Xero finished with the request, so it is not still being worked on.
    answered: bool = False


@dataclass(frozen=True)
class Backoff:
    base_s: float
    cap_s: float
    # A request that got no answer may still be worked on by Xero: not looked up sooner.
    in_flight_grace_s: float


@dataclass(frozen=True)
class Retry:
    """Where a failed posting goes back to, and when. `count_attempt`: the wait spends
    one of its attempts (only a posting going back to pending; the mark in flight counted
    the attempt of one that was sent)."""

    state: State
    delay_s: float
    count_attempt: bool


def retry_state(claimed_as: State, sent: bool, failure: Failure) -> State:
    """In flight when Xero may hold the journal: the posting is then looked up by its
    narration before it is sent again; pending when it surely never reached Xero."""
    if claimed_as is State.IN_FLIGHT:
        return State.IN_FLIGHT  # an earlier attempt's outcome is still unknown
    if failure.unreachable:
        return State.IN_FLIGHT if failure.maybe_processed else State.PENDING
    # Sent, then something of ours failed: Xero may have taken it.
    return State.IN_FLIGHT if sent else State.PENDING


def retry_of(
    claimed_as: State, attempts: int, sent: bool, failure: Failure, backoff: Backoff,
    rng: random.Random | None = None,
) -> Retry:
    """A posting claimed as `claimed_as` with `attempts` spent (the mark in flight of
    this round not included), whose batch failed with `failure`."""
    delay = backoff_s(attempts + 1, backoff.base_s, backoff.cap_s, rng)
    if failure.unreachable and failure.maybe_processed and not failure.answered:
        delay = max(delay, backoff.in_flight_grace_s)
    return Retry(retry_state(claimed_as, sent, failure), delay, count_attempt=not sent)
