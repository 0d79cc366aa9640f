"""What a drain may do (`DrainPolicy`), and the postings a process's drains may hold at
once (`Allowance`)."""

import asyncio
from dataclasses import dataclass


@dataclass(frozen=True)
class DrainPolicy:
    batch_size: int = 50
    max_attempts: int = 8
    # A day still not in Xero this long after it arrived fails (retryable) instead.
    max_age_s: float = 86_400.0
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 300.0
    # Narrations looked up in one GET (joined with OR).
    lookup_chunk: int = 10
    # A chart younger than this is not fetched again after a pre-check error.
    chart_recheck_s: float = 5.0
    # A request that got no answer may still be worked on by Xero: it is looked up only
    # after this long (longer than Xero could take), never raced.
    in_flight_grace_s: float = 60.0
    # Postings held by all of a process's drains at once (each parsed journal is ~33 KB):
    # a backlog across many organisations fills batches, and without a bound the
    # process's memory would rise to that high-water mark and stay there.
    max_claimed: int = 400
    # Create missing tracking options in Xero (needs the accounting.settings scope).
    create_tracking_options: bool = False


class Allowance:
    """A count shared by concurrent takers: `take` waits until some is free and takes up
    to what is asked; `give` returns it."""

    def __init__(self, total: int) -> None:
        self.free = total
        self._freed = asyncio.Event()

    async def take(self, wanted: int) -> int:
        while self.free <= 0:
            self._freed.clear()
            await self._freed.wait()
        taken = min(wanted, self.free)
        self.free -= taken
        return taken

    def give(self, amount: int) -> None:
        self.free += amount
        self._freed.set()
