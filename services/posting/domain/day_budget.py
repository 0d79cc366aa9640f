"""Xero's daily limit per organisation as arithmetic: 5,000 calls a day (developer.xero.com
"guides/oauth2/limits"), or fewer when Xero's `X-DayLimit-Remaining` says so, and a day
429's `Retry-After` (hours) obeyed. Xero's day is counted from our first call of it; what
Xero reports remaining is trusted over our own count."""

from dataclasses import dataclass
from datetime import datetime, timedelta

DAY = timedelta(hours=24)


@dataclass(frozen=True)
class DayCount:
    window_start: datetime
    used: int
    xero_remaining: int | None = None
    blocked_until: datetime | None = None


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
