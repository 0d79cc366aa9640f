"""Xero's daily limit per organisation as arithmetic: 5,000 calls a day (developer.xero.com
"guides/oauth2/limits"), or fewer when Xero's `X-DayLimit-Remaining` says so, and a day
429's `Retry-After` (hours) obeyed. Xero's day is counted from our first call of it; what
Xero reports remaining is trusted over our own count."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from services.posting.domain.records import RateInfo

DAY = timedelta(hours=24)


@dataclass(frozen=True)
class DayCount:
    window_start: datetime
    used: int
    xero_remaining: int | None = None
    blocked_until: datetime | None = None


@dataclass(frozen=True)
class Answered:
    """One answered call of an organisation, to be counted against its day."""

    tenant_id: UUID
    at: datetime
    rate: RateInfo


@dataclass(frozen=True)
class Counted:
    """The answered calls of one organisation, counted in one write: how many, what Xero
    said was left (its least: the count only falls within Xero's day), until when a day
    429 blocks calls, and when the day was first seen spent."""

    tenant_id: UUID
    first_at: datetime
    calls: int
    xero_remaining: int | None
    blocked_until: datetime | None
    spent_at: datetime | None


def counted(answers: Sequence[Answered]) -> list[Counted]:
    """The answers merged per organisation, in the order of its id (the order every
    replica locks the rows in)."""
    merged: dict[UUID, Counted] = {}
    for answer in answers:
        one = _one(answer)
        earlier = merged.get(answer.tenant_id)
        merged[answer.tenant_id] = one if earlier is None else Counted(
            answer.tenant_id, earlier.first_at, earlier.calls + 1,
            _least(earlier.xero_remaining, one.xero_remaining),
            _latest(earlier.blocked_until, one.blocked_until),
            earlier.spent_at or one.spent_at)
    return [merged[tenant] for tenant in sorted(merged)]


def _one(answer: Answered) -> Counted:
    rate = answer.rate
    blocked = None
    if rate.problem == "day" and rate.retry_after_s is not None:
        blocked = answer.at + timedelta(seconds=rate.retry_after_s)
    # The day ran out: a day 429, or Xero saying none are left.
    spent = answer.at if blocked is not None or rate.day_remaining == 0 else None
    return Counted(answer.tenant_id, answer.at, 1, rate.day_remaining, blocked, spent)


def _least(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def next_call_at(now: datetime, count: DayCount | None, per_day: int) -> datetime | None:
    """When the organisation's next call may go: None for now, else the moment its daily
    budget comes back."""
    if count is None:
        return None
    if count.blocked_until is not None and count.blocked_until > now:
        return count.blocked_until
    window_end = count.window_start + DAY
    if now >= window_end:
        return None
    left = per_day - count.used
    if count.xero_remaining is not None:
        left = min(left, count.xero_remaining)
    return window_end if left <= 0 else None


def left_today(now: datetime, count: DayCount | None, per_day: int) -> int:
    """The calls left in the organisation's current day (all of them in a new day)."""
    if count is None or now >= count.window_start + DAY:
        return per_day
    left = per_day - count.used
    if count.xero_remaining is not None:
        left = min(left, count.xero_remaining)
    return max(left, 0)


def waiting_message(until: datetime) -> str:
    return ("waiting for tomorrow's Xero budget of this organisation (Xero allows 5,000 calls"
            f" a day): posts after {until:%Y-%m-%d %H:%M} UTC")
