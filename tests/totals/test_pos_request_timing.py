"""When a POS request that arrives as a message is acted on
(services/totals/domain/pos_requests.py): not from further ahead than the clocks can
disagree, not older than totals remembers what it handled."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.totals.domain.pos_requests import CLOCK_SKEW, untimely

NOW = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
WEEK = timedelta(days=7)
TICK = timedelta(microseconds=1)


def test_the_clocks_may_disagree_by_five_minutes() -> None:
    assert CLOCK_SKEW == timedelta(minutes=5)


@pytest.mark.parametrize("offset", [
    timedelta(0), CLOCK_SKEW, -WEEK, timedelta(minutes=-1), timedelta(minutes=4),
])
def test_a_request_within_the_window_is_acted_on(offset: timedelta) -> None:
    assert untimely(NOW + offset, NOW, WEEK) is None


def test_a_request_from_past_the_skew_names_both_clocks() -> None:
    ahead = NOW + CLOCK_SKEW + TICK
    assert untimely(ahead, NOW, WEEK) == (
        f"occurred_at {ahead.isoformat()} is ahead of totals' clock ({NOW.isoformat()}):"
        " check the POS's clock")


@pytest.mark.parametrize(("max_age", "days"), [
    (WEEK, "7"), (timedelta(hours=36), "1.5"), (timedelta(days=30), "30"),
])
def test_a_request_older_than_the_window_says_its_age_in_days(max_age: timedelta,
                                                               days: str) -> None:
    old = NOW - max_age - TICK
    assert untimely(old, NOW, max_age) == (
        f"occurred_at {old.isoformat()} is older than {days} days: send the request again")


@given(st.integers(-10 * 86400 * 10**6, 10 * 86400 * 10**6), st.integers(1, 9 * 86400))
def test_acted_on_exactly_inside_the_window(offset_us: int, max_age_s: int) -> None:
    offset = timedelta(microseconds=offset_us)
    max_age = timedelta(seconds=max_age_s)
    problem = untimely(NOW + offset, NOW, max_age)
    if offset > CLOCK_SKEW:
        assert problem is not None and "ahead of totals' clock" in problem
    elif offset < -max_age:
        assert problem is not None and "older than" in problem
    else:
        assert problem is None
