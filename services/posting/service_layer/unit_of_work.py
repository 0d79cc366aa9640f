"""The posting service's unit of work (the recording's transaction): the day's revisions
read and written, and the events they cause, committed together or not at all.

Its new events are durable: each goes into the transactional outbox in the same
transaction (`shared/outbox.py`), and `collect_new_events` gives what the last commit
wrote there, handed to the process's relay by the commit itself.

Only the recording uses it. The drain's writes are single statements that are atomic
on their own (an outcome and its event, a mark in flight), grouped across the drains of
many organisations into one statement (`adapters/postings.py`): a transaction around
a batch would hold its rows' locks across a call to Xero."""

import abc
from collections.abc import Sequence
from datetime import date
from types import TracebackType
from typing import Protocol, Self

from services.posting.domain.revisions import DayRow, RecordingPlan
from shared.outbox import OutboxRow

Day = tuple[str, date]  # (store_id, business_date)


class DayRevisions(Protocol):
    """The postings of whole days, inside the unit of work's transaction."""

    async def lock_and_read(self, days: Sequence[Day]) -> dict[Day, list[DayRow]]:
        """Each day's revisions, the days locked against other recordings until the end
        of the transaction (taken in one fixed order, so two never deadlock)."""
        ...

    async def apply(self, plan: RecordingPlan) -> None:
        """The plan's inserts, superseded revisions, reopened attempts and events."""
        ...


class AbstractUnitOfWork(abc.ABC):
    revisions: DayRevisions

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.rollback()  # a no-op after commit

    @abc.abstractmethod
    async def commit(self) -> None: ...

    @abc.abstractmethod
    async def rollback(self) -> None: ...

    @abc.abstractmethod
    def collect_new_events(self) -> Sequence[OutboxRow]:
        """The events the last commit put in the outbox (none after a rollback)."""
