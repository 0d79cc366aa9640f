"""Xero's daily limit per organisation, pure: 5,000 calls a day (developer.xero.com
"guides/oauth2/limits"), fewer when `X-DayLimit-Remaining` says so, and a day 429's
`Retry-After` obeyed."""

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.posting.domain.day_budget import (
    DAY,
    Answered,
    Counted,
    DayCount,
    counted,
    left_today,
    next_call_at,
    waiting_message,
)
from services.posting.domain.records import RateInfo
from tests.support.examples import examples

START = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
PER_DAY = 5000
LATER = timedelta(hours=3)


def test_xeros_day_is_24_hours_from_the_first_call() -> None:
    assert DAY == timedelta(hours=24)


def test_an_organisation_never_counted_may_call_now_with_its_whole_day() -> None:
    assert next_call_at(START, None, PER_DAY) is None
    assert left_today(START, None, PER_DAY) == PER_DAY


def test_a_spent_day_waits_until_it_ends() -> None:
    spent = DayCount(START, PER_DAY)
    assert next_call_at(START + LATER, spent, PER_DAY) == START + DAY
    assert left_today(START + LATER, spent, PER_DAY) == 0
    one_left = DayCount(START, PER_DAY - 1)
    assert next_call_at(START + LATER, one_left, PER_DAY) is None
    assert left_today(START + LATER, one_left, PER_DAY) == 1


def test_a_new_day_brings_the_whole_budget_back() -> None:
    spent = DayCount(START, PER_DAY + 7, xero_remaining=0)
    assert next_call_at(START + DAY, spent, PER_DAY) is None
    assert left_today(START + DAY, spent, PER_DAY) == PER_DAY
    just_before = START + DAY - timedelta(microseconds=1)
    assert next_call_at(just_before, spent, PER_DAY) == START + DAY
    assert left_today(just_before, spent, PER_DAY) == 0


def test_what_xero_reports_left_is_trusted_over_our_count() -> None:
    fewer = DayCount(START, 10, xero_remaining=0)
    assert next_call_at(START + LATER, fewer, PER_DAY) == START + DAY
    assert left_today(START + LATER, fewer, PER_DAY) == 0
    assert left_today(START + LATER, DayCount(START, 10, xero_remaining=3), PER_DAY) == 3
    assert next_call_at(START + LATER, DayCount(START, 10, xero_remaining=1), PER_DAY) is None
    # Xero reporting more left than our count allows does not raise our count.
    more = DayCount(START, PER_DAY, xero_remaining=40)
    assert left_today(START + LATER, more, PER_DAY) == 0
    assert next_call_at(START + LATER, more, PER_DAY) == START + DAY


def test_a_day_429_blocks_until_its_retry_after() -> None:
    until = START + timedelta(hours=30)  # past the day's end: Retry-After wins
    blocked = DayCount(START, 1, blocked_until=until)
    assert next_call_at(START + LATER, blocked, PER_DAY) == until
    assert next_call_at(until, blocked, PER_DAY) is None
    assert next_call_at(until - timedelta(seconds=1), blocked, PER_DAY) == until
    # A block that is over leaves the day's own budget to decide.
    over = DayCount(START, PER_DAY, blocked_until=START + timedelta(hours=1))
    assert next_call_at(START + LATER, over, PER_DAY) == START + DAY


@given(st.integers(0, 2 * PER_DAY), st.none() | st.integers(0, PER_DAY),
       st.integers(0, 48 * 3600))
@settings(max_examples=examples(200))
def test_a_call_waits_exactly_when_nothing_is_left_today(used: int, remaining: int | None,
                                                        seconds: int) -> None:
    now = START + timedelta(seconds=seconds)
    count = DayCount(START, used, remaining)
    left = left_today(now, count, PER_DAY)
    assert 0 <= left <= PER_DAY
    assert (next_call_at(now, count, PER_DAY) is None) == (left > 0)


def test_the_waiting_message_says_when_posting_resumes() -> None:
    assert waiting_message(datetime(2026, 11, 25, 9, 5, 59, tzinfo=UTC)) == (
        "waiting for tomorrow's Xero budget of this organisation (Xero allows 5,000 calls a"
        " day): posts after 2026-11-25 09:05 UTC")


def test_calls_answered_together_are_counted_once_per_organisation_in_id_order() -> None:
    """Counted in one statement: an organisation's calls merged (a row is written once),
    organisations in the order every replica locks them."""
    low, high = sorted(uuid.uuid4() for _ in range(2))
    later = START + timedelta(seconds=1)
    answers = [
        Answered(high, START, RateInfo(day_remaining=4000)),
        Answered(low, START, RateInfo()),
        Answered(high, later, RateInfo(day_remaining=3998)),
        Answered(high, later, RateInfo(day_remaining=3999)),
    ]
    assert counted(answers) == [
        Counted(low, START, 1, None, None, None),
        # Xero's least remaining: answers of one moment may arrive out of order.
        Counted(high, START, 3, 3998, None, None),
    ]


def test_a_spent_day_is_kept_from_its_first_sign_and_the_longest_429_blocks() -> None:
    tenant = uuid.uuid4()
    later = START + timedelta(seconds=2)
    answers = [
        Answered(tenant, START, RateInfo(day_remaining=1)),
        Answered(tenant, START, RateInfo(day_remaining=0)),
        Answered(tenant, later, RateInfo(problem="day", retry_after_s=3600)),
        Answered(tenant, later, RateInfo(problem="day", retry_after_s=60)),
        # A minute 429's Retry-After is the minute budget's, not the day's.
        Answered(tenant, later, RateInfo(problem="minute", retry_after_s=7200)),
    ]
    [count] = counted(answers)
    assert count == Counted(tenant, START, 5, 0, later + timedelta(hours=1), START)


@given(st.lists(st.tuples(st.integers(0, 2), st.none() | st.integers(0, 5000)), max_size=30))
def test_every_answer_is_counted_and_nothing_xero_said_is_lost(
        calls: list[tuple[int, int | None]]) -> None:
    tenants = [uuid.UUID(int=n + 1) for n in range(3)]
    answers = [Answered(tenants[t], START, RateInfo(day_remaining=left)) for t, left in calls]
    counts = counted(answers)
    assert sum(c.calls for c in counts) == len(answers)
    assert [c.tenant_id for c in counts] == sorted({a.tenant_id for a in answers})
    for c in counts:
        told = [a.rate.day_remaining for a in answers
                if a.tenant_id == c.tenant_id and a.rate.day_remaining is not None]
        assert c.xero_remaining == (min(told) if told else None)
        assert (c.spent_at is not None) == (0 in told)
