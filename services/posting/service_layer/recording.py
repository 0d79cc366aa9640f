"""Recording a batch of `store-totals-closed` events: each event's day decides what it
does (`domain/revisions.py`), in one unit of work for the whole batch."""

from collections.abc import Sequence

from services.posting.domain.revisions import DayRow, Recorded, RecordingPlan
from services.posting.service_layer.unit_of_work import Day, UnitOfWorkFactory
from shared.contracts.events import StoreTotalsClosed


class Recorder:
    """Implements the `Recording` port; a unit of work per batch (batches may be recorded
    side by side: the days' locks keep them apart)."""

    def __init__(self, unit_of_work: UnitOfWorkFactory) -> None:
        self.unit_of_work = unit_of_work

    async def record_many(self, events: Sequence[StoreTotalsClosed]) -> list[Recorded]:
        keys = sorted({(e.store_id, e.business_date) for e in events})
        async with self.unit_of_work() as uow:
            # Usually no day of the batch is recorded yet: decided as such, and written in
            # one statement if the days' locks find it so.
            unseen, results = _decided(events, {})
            if unseen.only_new_postings() and await uow.revisions.record_if_unseen(keys, unseen):
                await uow.commit()
                return results
            plan, results = _decided(events, await uow.revisions.lock_and_read(keys))
            await uow.revisions.apply(plan)
            uow.add_event(*plan.events)
            await uow.commit()
        return results


def _decided(events: Sequence[StoreTotalsClosed], days: dict[Day, list[DayRow]]
             ) -> tuple[RecordingPlan, list[Recorded]]:
    plan = RecordingPlan()
    results = [plan.decide(e, days.setdefault((e.store_id, e.business_date), []))
               for e in events]
    return plan, results
