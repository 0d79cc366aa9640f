"""The consumer's handler: record the posting (or answer a duplicate), then ack.

Nothing here waits for Xero: the drain works from the database, so a delivery is never
held while an organisation's rate budget refills. Deliveries are handled side by side
(up to the prefetch); their records are written together, one transaction per group.
"""

import logging
from collections.abc import Callable, Sequence
from uuid import UUID

from services.posting.domain.revisions import Recorded
from services.posting.metrics import RECORD_GROUP, RECORD_SECONDS
from services.posting.service_layer.ports import Recording
from shared.contracts.events import Event, StoreTotalsClosed
from shared.messaging.consumer import Reject
from shared.messaging.grouping import GroupedWriter

log = logging.getLogger(__name__)


def batch_recorder(repo: Recording) -> GroupedWriter[StoreTotalsClosed, Recorded]:
    """Per-day advisory locks, taken in order, keep two groups written at once apart."""

    async def record_many(events: Sequence[StoreTotalsClosed]) -> list[Recorded]:
        with RECORD_SECONDS.time():
            return await repo.record_many(events)

    return GroupedWriter(record_many, name="recorder", on_group=RECORD_GROUP.observe)


class StoreTotalsClosedHandler:
    def __init__(
        self, recorder: GroupedWriter[StoreTotalsClosed, Recorded],
        wake: Callable[[UUID], None],
    ) -> None:
        self.recorder = recorder
        self.wake = wake

    async def __call__(self, event: Event) -> None:
        if not isinstance(event, StoreTotalsClosed):
            raise Reject(f"posting does not handle {type(event).__name__}")
        recorded = await self.recorder.submit(event)
        if recorded in (Recorded.NEW, Recorded.REOPENED):
            self.wake(event.tenant_id)
        else:
            log.info("store-totals-closed %s:%s rev %d: %s", event.store_id,
                     event.business_date, event.revision, recorded.value)
