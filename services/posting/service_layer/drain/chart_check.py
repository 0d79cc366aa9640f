"""Postings checked against the organisation's chart of accounts and lock dates before
they are sent: a day Xero would refuse fails here, naming what to fix."""

import logging
from uuid import UUID

from services.posting.domain.chart import Chart, check_journal, missing_options
from services.posting.domain.records import Claimed
from services.posting.domain.reference import idempotency_key
from services.posting.service_layer.drain.bookkeeping import Round, needs_settings
from services.posting.service_layer.drain.policy import DrainPolicy
from services.posting.service_layer.ports import Charts, Gateway, XeroForbidden, XeroRefused

log = logging.getLogger(__name__)


class ChartCheck:
    def __init__(self, gateway: Gateway, charts: Charts, policy: DrainPolicy) -> None:
        self.gateway = gateway
        self.charts = charts
        self.policy = policy

    async def check(
        self, tenant_id: UUID, connection_id: UUID, items: list[Claimed], chart: Chart,
        work: Round,
    ) -> list[Claimed]:
        """The postings that pass; the others are refused in `work`."""
        if self.policy.create_tracking_options and await self._create_options(
                tenant_id, connection_id, items, chart):
            chart = await self.charts.get(tenant_id, connection_id, True)
        problems = {c.posting.id: check_journal(c.posting.journal, chart) for c in items}
        if any(problems.values()) and self.charts.worth_reading_again(
                tenant_id, self.policy.chart_recheck_s):
            # The manager may just have fixed the chart in Xero: look again before refusing.
            await self.charts.invalidate(tenant_id)
            chart = await self.charts.get(tenant_id, connection_id, needs_settings(items))
            problems = {c.posting.id: check_journal(c.posting.journal, chart) for c in items}
        remaining = []
        for claimed in items:
            errors = problems[claimed.posting.id]
            if errors:
                work.refuse(claimed, errors)
            else:
                remaining.append(claimed)
        return remaining

    async def _create_options(
        self, tenant_id: UUID, connection_id: UUID, items: list[Claimed], chart: Chart
    ) -> bool:
        """Creates the tracking options the journals name that Xero lacks; True when one
        was (the chart is then read again). Without the scope Xero answers 403: the days
        then fail naming the option, as with creation off."""
        created = False
        for category_id, name in missing_options((c.posting.journal for c in items), chart):
            key = idempotency_key([], f"option:{category_id}:{name}")
            try:
                await self.gateway.call(
                    "tracking-option", tenant_id, connection_id,
                    lambda token, c=category_id, n=name, k=key: (  # type: ignore[misc]
                        self.gateway.xero.create_tracking_option(token, tenant_id, c, n, k)),
                )
            except (XeroForbidden, XeroRefused) as exc:
                log.warning("tracking option %r not created in %s: %s", name, tenant_id, exc)
                continue
            log.info("created tracking option %r in %s", name, tenant_id)
            created = True
        if created:
            await self.charts.invalidate(tenant_id)
        return created
