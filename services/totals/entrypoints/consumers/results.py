"""Posting results and connection news: each day's status follows them."""

import logging

from services.totals.domain.records import ACTIVE, NEEDS_REAUTH
from services.totals.service_layer.outcomes import Outcomes
from shared.contracts.events import (
    Event,
    GlPostingFailed,
    GlPostingSucceeded,
    XeroConnectionNeedsReauth,
    XeroConnectionRestored,
)
from shared.messaging.grouping import GroupedWriter

log = logging.getLogger(__name__)


class ResultsHandler:
    """Outcomes arriving side by side are applied together (one transaction per group);
    `start` must run before the first event."""

    def __init__(self, service: Outcomes) -> None:
        self.service = service
        self.outcomes: GroupedWriter[GlPostingSucceeded | GlPostingFailed, bool] = \
            GroupedWriter(service.record, name="outcomes")

    def start(self) -> None:
        self.outcomes.start()

    async def stop(self) -> None:
        await self.outcomes.stop()

    async def __call__(self, event: Event) -> None:
        if isinstance(event, GlPostingSucceeded | GlPostingFailed):
            changed = await self.outcomes.submit(event)
            log.info("%s for store %s %s rev %d: %s", event.event_type, event.store_id,
                     event.business_date, event.revision, "recorded" if changed else "no change")
        elif isinstance(event, XeroConnectionNeedsReauth):
            held = await self.service.mark_connection(event.connection_id, NEEDS_REAUTH)
            log.info("connection %s needs a new key; %d day(s) wait", event.connection_id,
                     len(held))
        elif isinstance(event, XeroConnectionRestored):
            released = await self.service.mark_connection(event.connection_id, ACTIVE)
            log.info("connection %s restored; %d held day(s) sent", event.connection_id,
                     len(released))
