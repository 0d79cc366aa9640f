"""A unit of work: the changes of one use case, kept together with the events they
cause. `commit` makes both durable at once: the events go into the transactional outbox
(`shared/outbox.py`) in the same transaction, and to this process's relay after COMMIT.
Leaving the block without `commit` rolls back; events of a rolled-back change were never
anywhere.

`PostgresUnitOfWork` holds one pooled connection for the block and opens a transaction
only when a write asks for one: reads alone cost no BEGIN/ROLLBACK round trips. A
statement may write its own outbox rows with its change (one round trip for many rows
and their events): `written_in_transaction` gives them to the unit of work, which hands
them off with the rest after COMMIT, and forgets them on a rollback.
"""

import abc
from types import TracebackType
from typing import Self

import asyncpg

from shared.contracts.events import Event
from shared.outbox import INSERT_ROWS, HandOff, OutboxRow, outbox_columns, outbox_row


class AbstractUnitOfWork(abc.ABC):
    def __init__(self) -> None:
        self._new_events: list[Event] = []

    async def __aenter__(self) -> Self:
        self._new_events = []
        await self._begin()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.rollback()
        finally:
            await self._end()

    def add_event(self, *events: Event) -> None:
        """Events published if, and only if, the next `commit` succeeds."""
        self._new_events.extend(events)

    def collect_new_events(self) -> list[Event]:
        events, self._new_events = self._new_events, []
        return events

    async def commit(self) -> None:
        await self._commit(self.collect_new_events())

    @abc.abstractmethod
    async def _commit(self, events: list[Event]) -> None:
        """Makes the changes so far and `events` durable in one step."""

    @abc.abstractmethod
    async def rollback(self) -> None:
        """Drops what was not committed (nothing after a commit)."""

    @abc.abstractmethod
    async def _begin(self) -> None:
        """Opens what the block works on."""

    @abc.abstractmethod
    async def _end(self) -> None:
        """Gives back what `_begin` opened."""


class PostgresUnitOfWork(AbstractUnitOfWork):
    def __init__(self, pool: asyncpg.Pool, handed: HandOff | None = None) -> None:
        super().__init__()
        self.pool = pool
        # Without a relay of this process (another replica's view in a test), the relay's
        # sweep publishes what was committed.
        self.handed = handed or HandOff(limit=0)
        self._conn: asyncpg.Connection | None = None
        self._tx: asyncpg.transaction.Transaction | None = None
        self._written: list[OutboxRow] = []

    @property
    def conn(self) -> asyncpg.Connection:
        """The block's connection, for reads (autocommit unless a write began)."""
        assert self._conn is not None, "use the unit of work in `async with`"
        return self._conn

    async def writer(self) -> asyncpg.Connection:
        """The block's connection inside its transaction (begun at the first write)."""
        if self._tx is None:
            self._tx = self.conn.transaction()
            await self._tx.start()
        return self.conn

    @property
    def in_transaction(self) -> bool:
        return self._tx is not None

    def written_in_transaction(self, rows: list[OutboxRow]) -> None:
        """Outbox rows a statement wrote inside the transaction, with the change that
        caused them: handed off after COMMIT, gone with a rollback."""
        assert self.in_transaction, "rows written inside the transaction, after `writer`"
        self._written += rows

    async def _begin(self) -> None:
        self._conn = await self.pool.acquire()
        self._tx = None
        self._written = []

    async def _end(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await self.pool.release(conn)

    async def _commit(self, events: list[Event]) -> None:
        rows = [outbox_row(event) for event in events]
        if rows:
            await (await self.writer()).execute(INSERT_ROWS, *outbox_columns(rows))
        tx, self._tx = self._tx, None
        if tx is not None:
            await tx.commit()
        done = self._written + rows
        self._written = []
        self.handed(done)

    async def rollback(self) -> None:
        self._new_events = []
        self._written = []
        tx, self._tx = self._tx, None
        if tx is not None:
            await tx.rollback()
