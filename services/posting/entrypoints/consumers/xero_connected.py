"""A store connected to Xero: its organisation's chart of accounts is read now, so that
the first day it closes waits for no chart call (and finds the connection's token ready).

Reading ahead is a convenience: if it fails (Xero busy, the budget spent, auth away) the
event is still acked, and the first day reads the chart as it would have anyway."""

import logging

from services.posting.adapters.charts import ChartCache
from services.posting.service_layer.ports import (
    AuthUnavailable,
    ReauthNeeded,
    Throttled,
    UnknownConnection,
    XeroError,
)
from shared.contracts.events import Event, XeroConnected
from shared.messaging.consumer import Reject

log = logging.getLogger(__name__)

NOT_READ_AHEAD = (XeroError, Throttled, AuthUnavailable, ReauthNeeded, UnknownConnection)


class XeroConnectedHandler:
    def __init__(self, charts: ChartCache) -> None:
        self.charts = charts

    async def __call__(self, event: Event) -> None:
        if not isinstance(event, XeroConnected):
            raise Reject(f"posting does not handle {type(event).__name__} here")
        try:
            await self.charts.warm(event.tenant_id, event.connection_id)
        except NOT_READ_AHEAD as exc:
            log.warning("chart of organisation %s not read ahead for store %s: %s",
                        event.tenant_id, event.store_id, exc)
