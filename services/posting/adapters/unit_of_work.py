"""Posting's unit of work on PostgreSQL (`shared/unit_of_work.py`): one pooled
connection, its day revisions."""

import asyncpg

from services.posting.adapters.recording import PostgresDayRevisions
from services.posting.adapters.reposts import Reposts
from services.posting.service_layer.unit_of_work import PostingUnitOfWork, UnitOfWorkFactory
from shared.outbox import HandOff
from shared.unit_of_work import PostgresUnitOfWork


class PgPostingUnitOfWork(PostingUnitOfWork, PostgresUnitOfWork):
    def __init__(self, pool: asyncpg.Pool, handed: HandOff | None = None,
                 reposts: Reposts | None = None) -> None:
        PostgresUnitOfWork.__init__(self, pool, handed)
        self.revisions = PostgresDayRevisions(self, reposts)


def unit_of_work(pool: asyncpg.Pool, handed: HandOff | None = None,
                 reposts: Reposts | None = None) -> UnitOfWorkFactory:
    """A new unit of work per recorded batch, on `pool`, handing committed events to
    `handed`."""
    return lambda: PgPostingUnitOfWork(pool, handed, reposts)
