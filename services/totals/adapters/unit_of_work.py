"""Totals' unit of work on PostgreSQL: one pooled connection, its setups and days."""

import asyncpg

from services.totals.adapters.repository import PgDayRepository, PgSetupRepository
from services.totals.service_layer.unit_of_work import TotalsUnitOfWork, UnitOfWorkFactory
from shared.outbox import HandOff
from shared.unit_of_work import PostgresUnitOfWork


class PgTotalsUnitOfWork(TotalsUnitOfWork, PostgresUnitOfWork):
    def __init__(self, pool: asyncpg.Pool, handed: HandOff | None = None) -> None:
        PostgresUnitOfWork.__init__(self, pool, handed)
        self.setups = PgSetupRepository(self)
        self.days = PgDayRepository(self)


def unit_of_work(pool: asyncpg.Pool, handed: HandOff | None = None) -> UnitOfWorkFactory:
    """A new unit of work per use case, on `pool`, handing committed events to `handed`."""
    return lambda: PgTotalsUnitOfWork(pool, handed)
