"""Each organisation's chart of accounts and lock dates, cached in memory and in
PostgreSQL (shared by replicas), read ahead when a store connects, read again whole at
once after an account error (`invalidate`: the one "read it again now" entry point), and
otherwise once its TTL (a day by default) has passed, behind, with `If-Modified-Since`.

Each read costs two of the organisation's Xero calls (5,000 a day): reading on the clock
every few minutes would spend hundreds a day per organisation for nothing, while Xero
checks every journal itself, and the drain reads the chart again before it refuses a
journal on the chart's word."""

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from services.posting.adapters.gateway import XeroGateway
from services.posting.domain.chart import (
    TAX_RATES_KEY,
    TRACKING_KEY,
    Chart,
    chart_from_xero,
)
from services.posting.domain.records import RateInfo
from services.posting.service_layer.ports import ChartStore

log = logging.getLogger(__name__)


@dataclass
class _Entry:
    chart: Chart
    accounts_json: str
    organisation_json: str
    last_modified: str | None
    fetched: float  # monotonic
    stale: bool = False
    # When the organisation record (lock dates) was read; unknown (-inf) for a copy from
    # the database, whose fetched_at an accounts-only read may have moved on.
    organisation_fetched: float = float("-inf")


class ChartCache:
    """A chart older than `ttl_s` is still used while it is read again in the background
    (a daily rush of first days waits for no chart call); only a missing one, one marked
    stale after an account error, or one older than `max_stale_s` is read before use.
    Xero checks every journal itself, so a journal checked against a chart a few minutes
    old can at worst be refused by Xero with Xero's own words."""

    def __init__(self, store: ChartStore, gateway: XeroGateway, ttl_s: float,
                 max_stale_s: float = 86_400.0, retry_s: float = 30.0,
                 in_memory: int = 500) -> None:
        self.store = store
        self.gateway = gateway
        self.ttl_s = ttl_s
        self.max_stale_s = max_stale_s
        self.retry_s = retry_s
        # The charts of the `in_memory` organisations used last (about 30 KB each, parsed
        # and as Xero's JSON); an older one is read back from the database, not from Xero.
        self.in_memory = in_memory
        self._entries: OrderedDict[UUID, _Entry] = OrderedDict()
        self._locks: dict[UUID, asyncio.Lock] = {}
        self._revalidating: dict[UUID, asyncio.Task[None]] = {}
        self._last_revalidation: dict[UUID, float] = {}
        # Invalidated: read again from Xero, organisation record included, even if a read
        # already in flight when the error came stores a copy first.
        self._reread_due: set[UUID] = set()

    async def get(self, tenant_id: UUID, connection_id: UUID, settings: bool = False) -> Chart:
        """With `settings`, the chart carries the organisation's tax rates and tracking
        categories (two more reads, made only for organisations whose journals use them)."""
        entry = self._entries.get(tenant_id)

        def good(entry: _Entry) -> bool:
            return self._usable(entry) and (entry.chart.has_settings or not settings)

        if entry is None or not good(entry):
            entry = await self._load(tenant_id, connection_id, good, settings)
        else:
            self._entries.move_to_end(tenant_id)
        self._revalidate_if_old(tenant_id, connection_id, entry)
        return entry.chart

    async def warm(self, tenant_id: UUID, connection_id: UUID) -> None:
        """Reads the chart now unless a fresh one is known (a new connection's)."""
        await self._load(tenant_id, connection_id, self._fresh)

    def worth_reading_again(self, tenant_id: UUID, recheck_s: float) -> bool:
        """Before a journal is refused on the chart's word: the chart or the organisation
        record is past the TTL, or older than `recheck_s` (the manager may just have fixed
        it in Xero)."""
        return self.age_s(tenant_id) > min(recheck_s, self.ttl_s)

    def read_at(self, tenant_id: UUID) -> datetime | None:
        """When this process's copy was read from Xero (None: it has none)."""
        entry = self._entries.get(tenant_id)
        if entry is None or entry.stale:
            return None
        return datetime.now(UTC) - timedelta(seconds=time.monotonic() - entry.fetched)

    def age_s(self, tenant_id: UUID) -> float:
        """Of the older part: the accounts, or the organisation record."""
        entry = self._entries.get(tenant_id)
        if entry is None:
            return float("inf")
        return time.monotonic() - min(entry.fetched, entry.organisation_fetched)

    async def invalidate(self, tenant_id: UUID) -> None:
        """Read the chart again, whole, before its next use (by any replica): after an
        account error, or before a failed day is posted again."""
        self._reread_due.add(tenant_id)
        entry = self._entries.get(tenant_id)
        if entry is not None:
            entry.stale = True
        await self.store.mark_chart_stale(tenant_id)

    async def stop(self) -> None:
        tasks = list(self._revalidating.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _fresh(self, entry: _Entry) -> bool:
        return not entry.stale and time.monotonic() - entry.fetched < self.ttl_s

    def _usable(self, entry: _Entry) -> bool:
        return not entry.stale and time.monotonic() - entry.fetched < self.max_stale_s

    def _revalidate_if_old(self, tenant_id: UUID, connection_id: UUID, entry: _Entry) -> None:
        if self._fresh(entry) or tenant_id in self._revalidating:
            return
        # A failed read is not tried again at once on every batch of the organisation.
        now = time.monotonic()
        if now - self._last_revalidation.get(tenant_id, -self.retry_s) < self.retry_s:
            return
        self._last_revalidation[tenant_id] = now
        task = asyncio.create_task(self._revalidate(tenant_id, connection_id),
                                   name=f"chart-{tenant_id}")
        self._revalidating[tenant_id] = task
        task.add_done_callback(lambda _: self._revalidating.pop(tenant_id, None))

    async def _revalidate(self, tenant_id: UUID, connection_id: UUID) -> None:
        try:
            await self._load(tenant_id, connection_id, self._fresh)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("chart of organisation %s not read again: %s", tenant_id, exc)

    async def _load(self, tenant_id: UUID, connection_id: UUID,
                    good: Callable[[_Entry], bool], settings: bool = False) -> _Entry:
        """The chart in memory if `good`, else the database's (another replica may have
        read it), else Xero's; one reader per organisation at a time."""
        async with self._locks.setdefault(tenant_id, asyncio.Lock()):
            entry = self._entries.get(tenant_id)
            due = tenant_id in self._reread_due
            if entry is None or not good(entry) or due:
                stored = None if due else await self._from_database(tenant_id)
                entry = stored if stored is not None and good(stored) else await self._refresh(
                    tenant_id, connection_id, stored or entry, settings)
                self._keep(tenant_id, entry)
            return entry

    def _keep(self, tenant_id: UUID, entry: _Entry) -> None:
        self._entries[tenant_id] = entry
        self._entries.move_to_end(tenant_id)
        while len(self._entries) > self.in_memory:
            evicted, _ = self._entries.popitem(last=False)
            self._last_revalidation.pop(evicted, None)

    async def _from_database(self, tenant_id: UUID) -> _Entry | None:
        row = await self.store.load_chart(tenant_id)
        if row is None:
            return None
        age = (datetime.now(UTC) - row["fetched_at"]).total_seconds()
        return _Entry(
            chart=_chart(row["accounts"], row["organisation"]),
            accounts_json=row["accounts"],
            organisation_json=row["organisation"],
            last_modified=row["last_modified"],
            fetched=time.monotonic() - max(age, 0.0),
            stale=row["stale"],
        )

    async def _refresh(self, tenant_id: UUID, connection_id: UUID, old: _Entry | None,
                       settings: bool = False) -> _Entry:
        # A stale chart (an account error) is read whole: a deleted account may be left
        # out of a changes-only answer, and must leave the cache.
        whole = tenant_id in self._reread_due
        since = old.last_modified if old is not None and not old.stale and not whole else None
        settings = settings or (old is not None and old.chart.has_settings)
        accounts_read = self.gateway.call(
            "accounts", tenant_id, connection_id,
            lambda token: _accounts(self.gateway, token, tenant_id, since),
        )
        settings_reads = [self._settings(tenant_id, connection_id, path, key, params)
                          for path, key, params in _SETTINGS if settings]
        extra: list[list[dict[str, Any]]]
        if old is not None and not old.stale and old.organisation_json and not whole:
            # A read because the chart is old: the organisation record (name, lock dates,
            # base currency) changes far more rarely than accounts, and a journal it would
            # refuse (a period locked since) comes back from Xero as an error that marks
            # the chart stale, when the record is read again. One call, not two.
            (accounts, last_modified), *extra = await asyncio.gather(
                accounts_read, *settings_reads)
            organisation: Any = json.loads(old.organisation_json)
            organisation_fetched = old.organisation_fetched
        else:
            # The reads go side by side: an organisation's first batch waits for them all.
            (accounts, last_modified), organisation, *extra = await asyncio.gather(
                accounts_read,
                self.gateway.call(
                    "organisation", tenant_id, connection_id,
                    lambda token: self.gateway.xero.organisation(token, tenant_id),
                ),
                *settings_reads,
            )
            organisation_fetched = time.monotonic()
            if whole:
                self._reread_due.discard(tenant_id)
        for (_, key, _), items in zip(_SETTINGS, extra, strict=False):
            organisation[key] = items
        if old is not None and since is not None:
            # With If-Modified-Since Xero sends only what changed (or 304): merge it.
            accounts_json = json.dumps(merge_accounts(json.loads(old.accounts_json),
                                                      accounts or []), default=str)
        else:
            accounts_json = json.dumps(accounts or [], default=str)
        organisation_json = json.dumps(organisation, default=str)
        await self.store.save_chart(tenant_id, accounts_json, organisation_json, last_modified)
        return _Entry(
            _chart(accounts_json, organisation_json), accounts_json, organisation_json,
            last_modified, time.monotonic(), organisation_fetched=organisation_fetched,
        )


    async def _settings(self, tenant_id: UUID, connection_id: UUID, path: str, key: str,
                        params: dict[str, str]) -> list[dict[str, Any]]:
        return await self.gateway.call(
            "settings", tenant_id, connection_id,
            lambda token: self.gateway.xero.settings(token, tenant_id, path, key, params),
        )


# Read for organisations whose journals carry tax types or tracking, kept with the
# organisation's answer (archived tracking options too, so a message can say "archived").
_SETTINGS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("/TaxRates", TAX_RATES_KEY, {}),
    ("/TrackingCategories", TRACKING_KEY, {"includeArchived": "true"}),
)


async def _accounts(
    gateway: XeroGateway, token: str, tenant_id: UUID, since: str | None
) -> tuple[tuple[list[dict[str, Any]] | None, str | None], RateInfo]:
    accounts, last_modified, rate = await gateway.xero.accounts(token, tenant_id, since)
    return (accounts, last_modified), rate


def merge_accounts(
    old: list[dict[str, Any]], changed: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    def key(account: dict[str, Any]) -> str:
        return str(account.get("AccountID") or account.get("Code"))

    merged = {key(a): a for a in old}
    merged.update({key(a): a for a in changed})
    return [a for a in merged.values() if a.get("Status") != "DELETED"]


def _chart(accounts_json: str, organisation_json: str) -> Chart:
    return chart_from_xero(json.loads(accounts_json), json.loads(organisation_json))
