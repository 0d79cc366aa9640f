"""Posting's PostgreSQL repositories of one process, made together and stopped together.

`pool` commits durably (postings, outcomes, the outbox). `relaxed` may skip waiting for
the WAL flush: leases, the rate budget and the chart cache are worth little after a
database crash, and their commits are the most frequent."""

import asyncpg

from services.posting.adapters.chart_store import PostgresChartStore
from services.posting.adapters.day_budget import PgDayBudget
from services.posting.adapters.leases import PostgresLeases
from services.posting.adapters.posting_views import PostgresPostingViews
from services.posting.adapters.postings import PostgresPostings
from services.posting.adapters.rate_budget import PostgresRateBudget
from services.posting.adapters.unit_of_work import unit_of_work
from services.posting.service_layer.recording import Recorder
from shared.outbox import HandOff


class PostingStores:
    def __init__(self, pool: asyncpg.Pool, relaxed: asyncpg.Pool | None = None,
                 handed: HandOff | None = None,
                 installation_max_tenants: int | None = None,
                 calls_per_day: int = 5000) -> None:
        self.pool = pool
        self.relaxed = relaxed or pool
        self.recording = Recorder(unit_of_work(pool, handed))
        self.postings = PostgresPostings(pool, handed)
        self.views = PostgresPostingViews(pool)
        self.leases = PostgresLeases(self.relaxed, installation_max_tenants)
        # Xero's daily limit is counted as each call ends, in the minute budget's writes.
        self.day = PgDayBudget(self.relaxed, calls_per_day)
        self.budget = PostgresRateBudget(self.relaxed, self.day)
        self.charts = PostgresChartStore(self.relaxed)

    async def stop(self) -> None:
        """Every grouped writer of these repositories, so none is left running."""
        await self.postings.stop()
        await self.leases.stop()
        await self.budget.stop()
