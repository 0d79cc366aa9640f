"""Xero's rate limits as arithmetic: a sliding minute per organisation, a cap on calls
in flight, and an app-wide minute. The repository applies it under a row lock so that
every replica shares one budget.

A sliding window is stricter than Xero's fixed minute (whose start we cannot see): if no
60-second span ever holds more than the limit, no fixed minute can either.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Limits:
    per_minute: int = 60
    concurrent: int = 5
    app_per_minute: int = 10_000
    window: timedelta = timedelta(seconds=62)
    # A call in flight holds its slot at most this long (a crashed caller's slot frees).
    slot_ttl: timedelta = timedelta(seconds=60)


@dataclass(frozen=True)
class Decision:
    wait_s: float
    calls: tuple[datetime, ...]
    in_flight: tuple[datetime, ...]

    @property
    def granted(self) -> bool:
        return self.wait_s <= 0


def decide(
    now: datetime,
    calls: Sequence[datetime],
    in_flight: Sequence[datetime],
    blocked_until: datetime | None,
    limits: Limits,
) -> Decision:
    """Whether one more call may start now; if so the new state, else how long to wait.

    `calls` are start times of recent calls, `in_flight` expiry times of held slots.
    """
    recent = tuple(sorted(c for c in calls if c > now - limits.window))
    held = tuple(sorted(s for s in in_flight if s > now))
    if blocked_until is not None and blocked_until > now:
        return Decision((blocked_until - now).total_seconds(), recent, held)
    if len(recent) >= limits.per_minute:
        frees_at = recent[len(recent) - limits.per_minute] + limits.window
        return Decision(max((frees_at - now).total_seconds(), 0.001), recent, held)
    if len(held) >= limits.concurrent:
        return Decision(0.05, recent, held)
    return Decision(0.0, (*recent, now), (*held, now + limits.slot_ttl))


def app_wait_s(now: datetime) -> float:
    """The app-wide budget is a fixed minute (as Xero counts it): wait for the next one."""
    return (now.replace(second=0, microsecond=0) + timedelta(minutes=1) - now).total_seconds()


def blocked_after_answer(
    now: datetime, retry_after_s: float | None, min_remaining: int | None
) -> datetime | None:
    """What Xero's own headers say about when to call next.

    `Retry-After` wins; a minute budget Xero reports as spent waits a whole minute (we
    cannot see when Xero's fixed window turns over).
    """
    if retry_after_s is not None:
        return now + timedelta(seconds=max(retry_after_s, 1.0))
    if min_remaining is not None and min_remaining <= 0:
        return now + timedelta(seconds=60)
    return None
