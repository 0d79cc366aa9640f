"""Recording a batch of `store-totals-closed` events: each event's day decides what it
does (`domain/revisions.py`), in one unit of work for the whole batch."""

from collections.abc import Sequence

from services.posting.domain.revisions import Recorded, RecordingPlan
from services.posting.service_layer.unit_of_work import UnitOfWorkFactory
from shared.contracts.events import StoreTotalsClosed


class Recorder:
    """Implements the `Recording` port; a unit of work per batch (batches may be recorded
    side by side: the days' locks keep them apart)."""

    def __init__(self, unit_of_work: UnitOfWorkFactory) -> None:
        self.unit_of_work = unit_of_work

    async def record_many(self, events: Sequence[StoreTotalsClosed]) -> list[Recorded]:
        async with self.unit_of_work() as uow:
            days = await uow.revisions.lock_and_read(
                sorted({(e.store_id, e.business_date) for e in events}))
            plan = RecordingPlan()
            results = [plan.decide(e, days.setdefault((e.store_id, e.business_date), []))
                       for e in events]
            await uow.revisions.apply(plan)
            uow.add_event(*plan.events)
            await uow.commit()
        return results
