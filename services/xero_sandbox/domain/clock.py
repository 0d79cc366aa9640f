"""The sandbox clock: real time plus an offset tests can advance (token expiry, windows)."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta


def _real_now() -> datetime:
    return datetime.now(UTC)


class Clock:
    def __init__(self, source: Callable[[], datetime] = _real_now) -> None:
        self._source = source
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return self._source() + self.offset

    def timestamp(self) -> float:
        return self.now().timestamp()

    def advance(self, seconds: float) -> datetime:
        self.offset += timedelta(seconds=seconds)
        return self.now()

    def reset(self) -> None:
        self.offset = timedelta(0)
