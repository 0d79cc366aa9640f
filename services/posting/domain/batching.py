"""Which pending postings go to Xero together."""

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


def group_by(items: Iterable[T], key: Callable[[T], K]) -> dict[K, list[T]]:
    groups: dict[K, list[T]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return dict(groups)


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """Xero takes at most 50 journals per `PUT /ManualJournals`."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def linger_s(minute_remaining: int | None, per_minute: int) -> float:
    """How long an organisation's drain waits before claiming its next batch.

    Xero takes 50 journals in one call but an organisation only 60 calls a minute. While
    more than half of its minute is left a batch goes at once (a day's latency matters
    more); past that, calls are paced one per 60/limit seconds, so that days still
    arriving (a backfill, a backlog) share a call instead of spending one each.
    """
    if minute_remaining is None or minute_remaining > per_minute // 2:
        return 0.0
    return 60.0 / max(per_minute, 1)
