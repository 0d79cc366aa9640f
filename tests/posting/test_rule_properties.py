"""Properties of posting's pure rules: balance both ways, the rate budget under any
interleaving, what Xero's headers pause, backoff, and how Xero's words are classified."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.posting.domain import budget
from services.posting.domain.chart import Chart, check_balance, check_lock_date
from services.posting.domain.outcome import is_account_error, xero_error
from services.posting.domain.retry import backoff_s
from shared.contracts.events import ErrorKind, JournalLine
from tests.support.examples import examples

START = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
cents = st.integers(1, 10**9).map(lambda c: Decimal(c) / 100)


def line(amount: Decimal) -> JournalLine:
    return JournalLine(category="x", account_code="1210", amount=amount)


# --- balance ---

@given(st.lists(cents, min_size=1, max_size=6), cents, st.booleans())
def test_a_journal_unbalanced_either_way_is_refused(debits: list[Decimal], extra: Decimal,
                                                    more_debits: bool) -> None:
    total = sum(debits, Decimal(0))
    balanced = [*map(line, debits), line(-total)]
    assert check_balance(balanced) is None
    unbalanced = [*balanced, line(extra if more_debits else -extra)]
    error = check_balance(unbalanced)
    assert error is not None and error.kind == ErrorKind.UNBALANCED
    assert f"difference {(extra if more_debits else -extra):.2f}" in error.message


# --- the rate budget: never more than the caps, whatever the interleaving ---

LIMITS = budget.Limits(per_minute=5, concurrent=2, window=timedelta(seconds=62),
                       slot_ttl=timedelta(seconds=60))
steps = st.lists(st.tuples(st.sampled_from(["call", "call", "release"]),
                           st.floats(0, 20, allow_nan=False)), max_size=60)


@settings(max_examples=examples(300))
@given(steps)
def test_granted_calls_never_exceed_the_minute_or_the_concurrent_cap(
    plan: list[tuple[str, float]],
) -> None:
    now = START
    calls: tuple[datetime, ...] = ()
    held: tuple[datetime, ...] = ()
    granted: list[datetime] = []
    for action, seconds in plan:
        now += timedelta(seconds=seconds)
        if action == "release":
            held = tuple(sorted(held)[1:])
            continue
        decision = budget.decide(now, calls, held, None, LIMITS)
        calls, held = decision.calls, decision.in_flight
        if decision.granted:
            granted.append(now)
            assert len([s for s in held if s > now]) <= LIMITS.concurrent
        else:
            assert decision.wait_s > 0
        in_window = [c for c in granted if c > now - LIMITS.window]
        assert len(in_window) <= LIMITS.per_minute


@given(st.lists(st.floats(0, 61, allow_nan=False), min_size=5, max_size=5))
def test_a_full_minute_waits_exactly_until_its_oldest_call_leaves(ages: list[float]) -> None:
    calls = [START - timedelta(seconds=a) for a in ages]
    decision = budget.decide(START, calls, [], None, LIMITS)
    assert not decision.granted
    oldest = min(calls)
    assert decision.wait_s == pytest.approx(
        max((oldest + LIMITS.window - START).total_seconds(), 0.001))
    later = START + timedelta(seconds=decision.wait_s + 0.001)
    assert budget.decide(later, calls, [], None, LIMITS).granted


@given(st.floats(0.001, 3600, allow_nan=False))
def test_a_block_waits_out_its_time(seconds: float) -> None:
    until = START + timedelta(seconds=seconds)
    assert budget.decide(START, [], [], until, LIMITS).wait_s == pytest.approx(seconds, abs=1e-6)
    assert budget.decide(until, [], [], until, LIMITS).granted


@given(st.integers(-5, 0))
def test_a_spent_minute_in_xeros_headers_pauses_a_minute(remaining: int) -> None:
    assert budget.blocked_after_answer(START, None, remaining) == START + timedelta(seconds=60)


@given(st.integers(1, 60) | st.none())
def test_a_minute_with_calls_left_does_not_pause(remaining: int | None) -> None:
    assert budget.blocked_after_answer(START, None, remaining) is None


@given(st.floats(0, 3600, allow_nan=False), st.integers(-1, 60) | st.none())
def test_retry_after_wins_and_waits_at_least_a_second(retry: float,
                                                      remaining: int | None) -> None:
    until = budget.blocked_after_answer(START, retry, remaining)
    assert until == START + timedelta(seconds=max(retry, 1.0))


@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1),
                    timezones=st.just(UTC)))
def test_the_app_minute_waits_for_the_next_whole_minute(now: datetime) -> None:
    wait = budget.app_wait_s(now)
    assert 0 < wait <= 60
    turn = now + timedelta(seconds=wait)
    assert (turn.second, turn.microsecond) == (0, 0)


# --- backoff ---

@given(st.integers(1, 40), st.floats(0.01, 10), st.floats(0.01, 600), st.floats(0, 1))
def test_backoff_stays_within_half_and_whole_of_its_capped_step(
    attempt: int, base: float, cap: float, draw: float
) -> None:
    class Fixed:
        def random(self) -> float:
            return draw

    rng: Any = Fixed()
    step = min(cap, base * 2 ** (attempt - 1))
    delay = backoff_s(attempt, base, cap, rng)
    assert step / 2 - 1e-9 <= delay <= step + 1e-9
    if attempt > 1:
        assert delay >= backoff_s(attempt - 1, base, cap, rng) - 1e-9


# --- Xero's words ---

@pytest.mark.parametrize("message", [
    # The sandbox's words, and Xero's as quoted in waynerobinson/xeroizer#92.
    "The document date cannot be on or before the lock date (2026-10-31)",
    "The document date cannot be before the end of year lock date, currently set at"
    " 31-Jul-2013",
])
def test_a_lock_date_refusal_is_a_locked_period_not_plain_validation(message: str) -> None:
    error = xero_error(message, [line(Decimal("1"))])
    assert error.kind == ErrorKind.LOCKED_PERIOD
    assert is_account_error(error)  # the cached chart (with its lock dates) is read again


@given(st.dates(date(2020, 1, 1), date(2030, 12, 31)),
       st.dates(date(2020, 1, 1), date(2030, 12, 31)))
def test_a_day_on_or_before_the_lock_date_is_refused_before_sending(day: date,
                                                                    lock: date) -> None:
    error = check_lock_date(day, Chart(accounts={}, end_of_year_lock_date=lock))
    assert (error is not None) == (day <= lock)
    if error is not None:
        assert error.kind == ErrorKind.LOCKED_PERIOD


def test_each_decision_returns_the_state_to_keep() -> None:
    window, ttl = LIMITS.window, LIMITS.slot_ttl
    stale, fresh = START - window, START - window + timedelta(microseconds=1)
    granted = budget.decide(START, [stale, fresh], [START, START + ttl], None, LIMITS)
    # A call exactly a window old has left it; a slot expiring now is free.
    assert granted == budget.Decision(0.0, (fresh, START), (START + ttl, START + ttl))
    full = [START - timedelta(seconds=s) for s in (1, 2, 3, 4, 5)]
    minute = budget.decide(START, full, [START + ttl], None, LIMITS)
    assert minute == budget.Decision(57.0, tuple(sorted(full)), (START + ttl,))
    soon = [START - window + timedelta(seconds=0.5), *full[:4]]
    assert budget.decide(START, soon, [], None, LIMITS).wait_s == pytest.approx(0.5)
    busy = budget.decide(START, [], [START + ttl, START + ttl], None, LIMITS)
    assert busy == budget.Decision(0.05, (), (START + ttl, START + ttl))
    until = START + timedelta(seconds=3)
    blocked = budget.decide(START, full[:1], [START + ttl], until, LIMITS)
    assert blocked == budget.Decision(3.0, (full[0],), (START + ttl,))
    at_the_end = budget.decide(until, [], [], until, LIMITS)
    assert at_the_end.calls == (until,)  # a block ending now no longer holds the call back
