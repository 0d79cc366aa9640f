"""The ports posting's recording works through: a unit of work (`shared/unit_of_work.py`)
holding the day revisions repository. `adapters/unit_of_work.py` keeps it in PostgreSQL;
the tests have an in-memory one.

A recorded batch is one unit of work: the day's revisions read and written, and the
events they cause, committed together or not at all. The plan's events are added to it
(`add_event`) and reach the outbox at commit; the events of revisions a newer one
superseded are written by the same statement as their outcomes, in the same transaction.
Both go to the process's relay after COMMIT.

Only the recording uses it. The drain's writes are single statements that are atomic
on their own (an outcome and its event, a mark in flight), grouped across the drains of
many organisations into one statement (`adapters/postings.py`): a transaction around
a batch would hold its rows' locks across a call to Xero."""

from collections.abc import Callable, Sequence
from datetime import date
from typing import Protocol

from services.posting.domain.revisions import DayRow, RecordingPlan
from shared.unit_of_work import AbstractUnitOfWork

Day = tuple[str, date]  # (store_id, business_date)


class DayRevisions(Protocol):
    """The postings of whole days, inside the unit of work's transaction."""

    async def record_if_unseen(self, days: Sequence[Day], plan: RecordingPlan) -> bool:
        """The plan's inserts, committed on their own, if none of `days` has a posting
        yet (looked for under the days' locks); False, and nothing written, otherwise.
        Outside the unit of work's transaction: call it before any write."""
        ...

    async def lock_and_read(self, days: Sequence[Day]) -> dict[Day, list[DayRow]]:
        """Each day's revisions, the days locked against other recordings until the end
        of the unit of work (taken in one fixed order, so two never deadlock)."""
        ...

    async def apply(self, plan: RecordingPlan) -> None:
        """The plan's inserts, superseded revisions (their events with them) and reopened
        attempts; the plan's own events are the unit of work's to add."""
        ...


class PostingUnitOfWork(AbstractUnitOfWork):
    revisions: DayRevisions


UnitOfWorkFactory = Callable[[], PostingUnitOfWork]
