"""The unit of work on PostgreSQL: one pooled connection and one transaction; its outbox
rows are handed to the process's relay after COMMIT (after a rollback they never were)."""

from collections.abc import Sequence
from types import TracebackType
from typing import Self

import asyncpg
from asyncpg.pool import PoolAcquireContext
from asyncpg.transaction import Transaction as PgTransaction

from services.posting.adapters.recording import PostgresDayRevisions
from services.posting.adapters.reposts import Reposts
from services.posting.service_layer.unit_of_work import AbstractUnitOfWork
from shared.outbox import HandOff, OutboxRow, Transaction


class PostgresUnitOfWork(AbstractUnitOfWork):
    def __init__(self, pool: asyncpg.Pool, handed: HandOff | None = None,
                 reposts: Reposts | None = None) -> None:
        self.pool = pool
        # Committed events go to this process's relay at once (without one: its sweep).
        self.handed = handed or HandOff(limit=0)
        self.reposts = reposts
        self._committed: list[OutboxRow] = []
        self._acquired: PoolAcquireContext | None = None
        self._pg: PgTransaction | None = None

    async def __aenter__(self) -> Self:
        self._acquired = self.pool.acquire()
        conn = await self._acquired.__aenter__()
        self._pg = conn.transaction()
        await self._pg.start()
        self._tx = Transaction(conn)
        self.revisions = PostgresDayRevisions(self._tx, self.reposts)
        self._committed = []
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        try:
            await super().__aexit__(kind, error, trace)
        finally:
            assert self._acquired is not None
            await self._acquired.__aexit__(kind, error, trace)
            self._acquired = self._pg = None

    async def commit(self) -> None:
        pg, self._pg = self._pg, None  # a failed COMMIT is not rolled back as well
        assert pg is not None
        await pg.commit()
        self._committed = self._tx.written
        self.handed(self._committed)

    async def rollback(self) -> None:
        if self._pg is not None:
            await self._pg.rollback()
            self._pg = None

    def collect_new_events(self) -> Sequence[OutboxRow]:
        return list(self._committed)
