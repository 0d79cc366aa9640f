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
