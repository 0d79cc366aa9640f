"""Xero's rate limits as fixed windows: pure arithmetic over timestamps (seconds)."""

from dataclasses import dataclass, field

MINUTE = 60.0
DAY = 86400.0


@dataclass
class Limits:
    concurrent: int = 5
    per_minute: int = 60
    per_day: int = 5000
    app_per_minute: int = 10000


@dataclass
class Window:
    """A fixed window that starts with its first call (so each organisation's minute
    resets at its own moment, as Xero's do)."""

    length: float
    start: float | None = None
    used: int = 0

    def roll(self, now: float) -> None:
        if self.start is None or now >= self.start + self.length:
            self.start, self.used = now, 0

    def remaining(self, limit: int, now: float) -> int:
        self.roll(now)
        return max(limit - self.used, 0)

    def retry_after(self, now: float) -> int:
        """Whole seconds until the window resets (at least 1)."""
        if self.start is None:
            return 0
        return max(int(self.start + self.length - now + 0.999), 1)


@dataclass
class TenantBudget:
    minute: Window = field(default_factory=lambda: Window(MINUTE))
    day: Window = field(default_factory=lambda: Window(DAY))
    in_flight: int = 0


@dataclass
class Decision:
    problem: str | None  # None: allowed; else "concurrent", "minute", "day" or "appminute"
    retry_after: int | None
    min_remaining: int
    day_remaining: int
    app_remaining: int


def admit(limits: Limits, tenant: TenantBudget, app: Window, now: float) -> Decision:
    """Decides one call; an admitted call is counted in every window and as in flight."""
    min_left = tenant.minute.remaining(limits.per_minute, now)
    day_left = tenant.day.remaining(limits.per_day, now)
    app_left = app.remaining(limits.app_per_minute, now)
    problem, retry = None, None
    if tenant.in_flight >= limits.concurrent:
        problem = "concurrent"
    elif app_left <= 0:
        problem, retry = "appminute", app.retry_after(now)
    elif day_left <= 0:
        problem, retry = "day", tenant.day.retry_after(now)
    elif min_left <= 0:
        problem, retry = "minute", tenant.minute.retry_after(now)
    if problem is None:
        tenant.minute.used += 1
        tenant.day.used += 1
        app.used += 1
        tenant.in_flight += 1
        min_left, day_left, app_left = min_left - 1, day_left - 1, app_left - 1
    return Decision(problem, retry, min_left, day_left, app_left)
