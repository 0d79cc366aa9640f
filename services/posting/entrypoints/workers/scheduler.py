"""Which organisations to drain, each by one worker at a time across every replica.

A lease row in PostgreSQL makes a worker the only drainer of an organisation; the
worker drains batch after batch while postings are due, renewing its lease, then lets
go. Many organisations drain side by side, so a slow one never holds up the others.

How many drain at once is bounded per process and, optionally, for every replica
together (the lease table counts them when it claims). A drain posts what is due when
it claims, so more drains at once mean thinner batches: with the total bounded, three
replicas make about as few of Xero's calls as one (docs/performance.md).
"""

import asyncio
import contextlib
import logging
import uuid
from typing import Protocol
from uuid import UUID

from services.posting.metrics import DRAINS_ACTIVE
from services.posting.service_layer.ports import Leases

log = logging.getLogger(__name__)


class Drains(Protocol):
    """Posts an organisation's due days a batch at a time (the drainer)."""

    async def drain_once(self, tenant_id: UUID) -> bool: ...


class Scheduler:
    def __init__(
        self,
        repo: Leases,
        drainer: Drains,
        max_tenants: int,
        lease_s: float,
        poll_s: float,
    ) -> None:
        self.repo = repo
        self.drainer = drainer
        self.max_tenants = max_tenants
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.owner = f"posting-{uuid.uuid4().hex[:12]}"
        self._wake = asyncio.Event()
        self._active: dict[UUID, asyncio.Task[None]] = {}
        # Organisations whose days arrived while they were being drained: the drain may
        # have claimed its last batch before them, so they are looked for when it ends.
        self._arrived_while_draining: set[UUID] = set()
        # Organisations whose drain has ended and whose lease is being let go.
        self._releasing: set[UUID] = set()
        self._drains: set[asyncio.Task[None]] = set()
        # The last claim took every free slot: more may be due than were claimed.
        self._saturated = False

    def wake(self, tenant_id: UUID | None = None) -> None:
        """New work (of `tenant_id`, if known) is due: claim it now, not at the next poll."""
        if tenant_id is not None and (tenant_id in self._active or tenant_id in self._releasing):
            self._arrived_while_draining.add(tenant_id)
            return
        self._wake.set()

    async def run(self) -> None:
        try:
            while True:
                try:
                    await self._claim()
                except Exception:
                    log.exception("scheduler could not claim organisations")
                    await asyncio.sleep(1.0)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_s)
                self._wake.clear()
        finally:
            # Ending drains included: they are no longer active while letting go.
            drains = list(self._drains)
            for task in drains:
                task.cancel()
            await asyncio.gather(*drains, return_exceptions=True)

    async def _claim(self) -> None:
        free = self.max_tenants - len(self._active)
        if free <= 0:
            self._saturated = True
            return
        claim = await self.repo.claim_tenants(self.owner, free, self.lease_s)
        # Took every slot a bound left (this process's or the installation's; the room
        # is never more than was asked): more may be due, so an ending drain claims again
        # at once.
        self._saturated = len(claim.tenants) >= claim.room
        for tenant_id in claim.tenants:
            if tenant_id in self._active:
                continue  # our lease lapsed and was taken again: the drain still runs
            task = asyncio.create_task(self._drain(tenant_id))
            self._active[tenant_id] = task
            self._drains.add(task)
            task.add_done_callback(self._drains.discard)

    async def _drain(self, tenant_id: UUID) -> None:
        DRAINS_ACTIVE.inc()
        lost = asyncio.Event()
        renewer = asyncio.create_task(self._renew(tenant_id, lost))
        try:
            # A short batch means the organisation is drained for now; what arrives later
            # is due and found by the next claim. A lease lost to another drainer ends the
            # drain after the batch in hand: two drains would claim the same postings.
            while not lost.is_set() and await self.drainer.drain_once(tenant_id):
                pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("draining %s stopped", tenant_id)
        finally:
            renewer.cancel()
            # No longer active before the lease is let go: a claim may take the lease the
            # moment it is free and must then start a drain. Were this ending one still
            # counted as running, that claim would skip it and the organisation would stay
            # leased to nobody until the lease ran out (days waited 15 s in the bench).
            self._active.pop(tenant_id, None)
            # A day arriving meanwhile is remembered, as during the drain: the lease may
            # still be held when the scheduler looks.
            self._releasing.add(tenant_id)
            try:
                with contextlib.suppress(Exception):
                    await self.repo.release_lease(tenant_id, self.owner)
            finally:
                self._releasing.discard(tenant_id)
            DRAINS_ACTIVE.dec()
            arrived = tenant_id in self._arrived_while_draining
            self._arrived_while_draining.discard(tenant_id)
            if arrived or self._saturated:
                self._wake.set()  # else the next poll finds what became due

    async def _renew(self, tenant_id: UUID, lost: asyncio.Event) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                held = await self.repo.renew_lease(tenant_id, self.owner, self.lease_s)
            except Exception as exc:
                # The database is away; the lease stays ours unless another drainer takes it.
                log.warning("could not renew the lease of %s: %r", tenant_id, exc)
                continue
            if not held:
                # It lapsed (renewals failed for a whole lease) and another drainer took it.
                log.warning("the lease of %s was taken by another drainer", tenant_id)
                lost.set()
                return
