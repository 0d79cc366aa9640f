"""The scheduler's hand-over between an ending drain and the next claim, on an in-memory
lease table whose answers the test holds back: the interleavings a loaded PostgreSQL
produces now and then, made to happen every time."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from uuid import UUID

import pytest

from services.posting.entrypoints.workers.scheduler import Drains, Scheduler
from services.posting.service_layer.ports import Claim

TENANT = uuid.uuid4()


class SlowReleaseLeases:
    """Lease rows in memory; a release is answered only when the test says so, and
    committed either at once (its reply is on the way back) or only then (its statement
    is still queued)."""

    def __init__(self, committed_before_answer: bool = True,
                 installation_max: int | None = None) -> None:
        self.committed_before_answer = committed_before_answer
        # Organisations every replica together may drain (PostgresLeases counts leases).
        self.installation_max = installation_max
        self.holders: dict[UUID, str] = {}
        self.due: set[UUID] = set()
        self.released = asyncio.Event()
        self.release_answered = asyncio.Event()
        self.claims = 0

    async def claim_tenants(self, owner: str, limit: int, lease_s: float) -> Claim:
        self.claims += 1
        room = limit if self.installation_max is None else max(
            0, min(limit, self.installation_max - len(self.holders)))
        free = [tenant for tenant in self.due if tenant not in self.holders][:room]
        for tenant in free:
            self.holders[tenant] = owner
        return Claim(free, room)

    async def renew_lease(self, tenant_id: UUID, owner: str, lease_s: float) -> bool:
        return self.holders.get(tenant_id) == owner

    async def release_lease(self, tenant_id: UUID, owner: str) -> None:
        if self.committed_before_answer:
            self._delete(tenant_id, owner)
        self.released.set()
        await self.release_answered.wait()
        self._delete(tenant_id, owner)

    def _delete(self, tenant_id: UUID, owner: str) -> None:
        if self.holders.get(tenant_id) == owner:
            del self.holders[tenant_id]


class PostsEverythingDue:
    def __init__(self, leases: SlowReleaseLeases) -> None:
        self.leases = leases
        self.drains = 0
        self.drained = asyncio.Event()

    async def drain_once(self, tenant_id: UUID) -> bool:
        assert self.leases.holders.get(tenant_id), "drained without holding the lease"
        self.leases.due.discard(tenant_id)
        self.drains += 1
        self.drained.set()
        return False


@asynccontextmanager
async def draining(leases: SlowReleaseLeases, drainer: Drains, lease_s: float = 60
                   ) -> AsyncIterator[Scheduler]:
    """A running scheduler woken for TENANT's due day; it claims only when woken (the poll
    is an hour away). Renewals come every third of `lease_s`."""
    scheduler = Scheduler(leases, drainer, max_tenants=4, lease_s=lease_s, poll_s=3600)
    running = asyncio.create_task(scheduler.run())
    try:
        leases.due.add(TENANT)
        scheduler.wake(TENANT)
        yield scheduler
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


@pytest.mark.parametrize(
    ("committed_before_answer", "own_wake"),
    [
        # The release is committed but its answer is not back; another organisation's
        # wake-up makes the scheduler claim, and the claim gets the lease: the claim
        # must start a drain, not take the ending one for a running one.
        pytest.param(True, False, id="a claim takes the lease of an ending drain"),
        # The release is still queued; the day's own wake-up comes while the lease is
        # held, when a claim would miss it: it is remembered and looked for after.
        pytest.param(False, True, id="its own wake-up while the lease is held"),
    ],
)
async def test_a_day_arriving_while_a_drain_lets_go_of_its_lease_is_drained(
    committed_before_answer: bool, own_wake: bool
) -> None:
    leases = SlowReleaseLeases(committed_before_answer)
    drainer = PostsEverythingDue(leases)
    async with draining(leases, drainer) as scheduler:
        await asyncio.wait_for(leases.released.wait(), 5)
        assert drainer.drains == 1

        drainer.drained.clear()
        leases.due.add(TENANT)
        scheduler.wake(TENANT if own_wake else None)
        await asyncio.sleep(0.05)
        leases.release_answered.set()

        await asyncio.wait_for(drainer.drained.wait(), 2)
        assert drainer.drains == 2
        assert not leases.due
    assert TENANT not in leases.holders, "the lease outlived the drains"


class EndlessBatches:
    """An organisation with more due after every batch."""

    def __init__(self) -> None:
        self.batches = 0

    async def drain_once(self, tenant_id: UUID) -> bool:
        await asyncio.sleep(0.01)
        self.batches += 1
        return True


async def test_a_drain_whose_lease_was_taken_by_another_drainer_stops() -> None:
    leases = SlowReleaseLeases()
    leases.release_answered.set()
    drainer = EndlessBatches()
    async with draining(leases, drainer, lease_s=0.3) as scheduler:
        await asyncio.sleep(0.2)
        assert drainer.batches > 0

        # Ours lapsed while the database was away, and another replica took it.
        leases.holders[TENANT] = "posting-elsewhere"
        await asyncio.wait_for(leases.released.wait(), 2)
        # The lease is let go once the drain's loop has ended; a claim made after that
        # (the scheduler woken and answered) finds the drain still stopped.
        stopped_at, claims = drainer.batches, leases.claims
        scheduler.wake()
        for _ in range(200):
            if leases.claims > claims:
                break
            await asyncio.sleep(0.01)
        assert leases.claims > claims, "the woken scheduler never claimed"
        assert drainer.batches == stopped_at, "still draining without the lease"
    assert leases.holders[TENANT] == "posting-elsewhere", "let go of a lease not ours"


class AwayDatabaseLeases(SlowReleaseLeases):
    """Renewals fail while `away` is set, as when the database cannot be reached."""

    def __init__(self) -> None:
        super().__init__()
        self.away = False
        self.failed_renewals = 0

    async def renew_lease(self, tenant_id: UUID, owner: str, lease_s: float) -> bool:
        if self.away:
            self.failed_renewals += 1
            raise ConnectionError("database unreachable")
        return await super().renew_lease(tenant_id, owner, lease_s)


async def test_renewals_that_fail_while_the_database_is_away_do_not_stop_the_drain() -> None:
    leases = AwayDatabaseLeases()
    leases.release_answered.set()
    drainer = EndlessBatches()
    async with draining(leases, drainer, lease_s=0.3) as scheduler:
        await asyncio.sleep(0.1)
        leases.away = True
        await asyncio.sleep(0.35)
        leases.away = False
        assert leases.failed_renewals >= 2

        # Nobody took the lease meanwhile: it is still ours, and the drain goes on.
        before = drainer.batches
        await asyncio.sleep(0.3)
        assert drainer.batches > before
        assert not leases.released.is_set()
        assert leases.holders[TENANT] == scheduler.owner


class HeldDrains:
    """Drains that last until the test lets them end, one organisation at a time."""

    def __init__(self, leases: SlowReleaseLeases) -> None:
        self.leases = leases
        self.draining: set[UUID] = set()
        self.may_end: dict[UUID, asyncio.Event] = {}

    async def drain_once(self, tenant_id: UUID) -> bool:
        self.draining.add(tenant_id)
        await self.may_end.setdefault(tenant_id, asyncio.Event()).wait()
        self.leases.due.discard(tenant_id)
        self.draining.discard(tenant_id)
        return False


def six_due_three_drained_elsewhere(installation_max: int | None = None
                                    ) -> tuple[SlowReleaseLeases, HeldDrains]:
    leases = SlowReleaseLeases(installation_max=installation_max)
    leases.release_answered.set()
    tenants = [uuid.uuid4() for _ in range(6)]
    leases.due.update(tenants)
    for tenant in tenants[:3]:
        leases.holders[tenant] = "posting-elsewhere"
    return leases, HeldDrains(leases)


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


async def test_every_replica_together_drains_no_more_than_the_installation_allows() -> None:
    """Of 6 organisations bounded at 4 for the installation, another replica drains 3:
    this one takes the 1 left, though it may drain 4; when its drain ends it takes the
    next at once (no poll: the next is an hour away)."""
    leases, drains = six_due_three_drained_elsewhere(installation_max=4)
    scheduler = Scheduler(leases, drains, max_tenants=4, lease_s=60, poll_s=3600)
    running = asyncio.create_task(scheduler.run())
    try:
        await until(lambda: len(drains.draining) == 1, "one drain started")
        await asyncio.sleep(0.05)
        [first] = drains.draining
        assert len(drains.draining) == 1 and leases.claims == 1

        drains.may_end.setdefault(first, asyncio.Event()).set()
        await until(lambda: bool(drains.draining - {first}), "the next drain started")
        assert len(drains.draining) == 1
        assert sum(holder == scheduler.owner for holder in leases.holders.values()) == 1
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def test_without_an_installation_bound_a_replica_drains_up_to_its_own() -> None:
    leases, drains = six_due_three_drained_elsewhere()
    scheduler = Scheduler(leases, drains, max_tenants=4, lease_s=60, poll_s=3600)
    running = asyncio.create_task(scheduler.run())
    try:
        await until(lambda: len(drains.draining) == 3, "the three free organisations drain")
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
