"""Marking postings in flight, the last step before the call to Xero, is the fence that
keeps two drains of one organisation (a lease that lapsed and was taken while its drain
still ran) from sending the same day twice: only one of them marks it."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime

import asyncpg

from services.posting.adapters.http import http_session
from services.posting.adapters.stores import PostingStores
from services.posting.domain.model import (
    Posting,
    State,
    failed,
    give_up_error,
    narration_of,
    succeeded,
)
from services.posting.domain.records import Outcome, Reschedule
from services.posting.main import drain_of
from services.posting.service_layer.drain.drainer import Drainer
from services.posting.settings import PostingSettings
from shared.contracts.events import ErrorKind
from shared.settings import XeroSettings
from tests.posting.conftest import PostingRig, Store, day_event


async def _claimed_by_two_replicas(
    repos: list[PostingStores], days: int
) -> tuple[list[Posting], list[Posting]]:
    store = Store(f"marks-{uuid.uuid4().hex[:6]}", uuid.uuid4(), uuid.uuid4())
    await repos[0].recording.record_many(
        [day_event(store, day=date(2026, 11, 1 + i)) for i in range(days)])
    first = await repos[0].postings.claim_batch(store.tenant_id, 50)
    second = await repos[1].postings.claim_batch(store.tenant_id, 50)
    assert len(first) == len(second) == days
    return [c.posting for c in first], [c.posting for c in second]


async def test_of_two_drains_that_claimed_the_same_postings_only_the_first_marks_them(
    repos: list[PostingStores], pools: list[asyncpg.Pool],
) -> None:
    first, second = await _claimed_by_two_replicas(repos, 3)

    assert await repos[0].postings.mark_in_flight(first, 60.0) == {p.id for p in first}
    assert await repos[1].postings.mark_in_flight(second, 60.0) == set()

    rows = await pools[2].fetch(
        "SELECT state, attempts FROM postings WHERE id = ANY($1::bigint[])", [p.id for p in first])
    assert [(r["state"], r["attempts"]) for r in rows] == [("in_flight", 1)] * 3


async def test_overlapping_batches_split_between_the_drains(repos: list[PostingStores]) -> None:
    """Batches of different sizes (each drain's own limit) overlap in part: each day is
    marked by exactly one of them, and the rest of the later batch is still its own."""
    first, second = await _claimed_by_two_replicas(repos, 4)

    marked_first = await repos[0].postings.mark_in_flight(first[:2], 60.0)
    marked_second = await repos[1].postings.mark_in_flight(second, 60.0)

    assert marked_first == {p.id for p in first[:2]}
    assert marked_second == {p.id for p in second[2:]}



async def test_a_drain_that_lost_the_race_writes_nothing_over_the_winners_posting(
    repos: list[PostingStores], pools: list[asyncpg.Pool],
) -> None:
    """The loser (its mark refused, or stopped before marking: a 429, the budget) may still
    have decided something about the day; its outcome and reschedule are not written, and
    its event is not sent. The winner's are."""
    winner, loser = await _claimed_by_two_replicas(repos, 1)
    posting, its_copy = winner[0], loser[0]
    assert await repos[0].postings.mark_in_flight(winner, 60.0) == {posting.id}

    stale = {its_copy.id: its_copy.attempts}
    await repos[1].postings.settle([Outcome(its_copy.id, State.FAILED, failed(its_copy, [
        give_up_error(1, "decided by the loser", ErrorKind.XERO_UNAVAILABLE)]))], stale)
    await repos[1].postings.reschedule([Reschedule(its_copy.id, State.PENDING, datetime.now(UTC),
                                          "decided by the loser")], stale)
    row = await pools[2].fetchrow("SELECT state, attempts FROM postings WHERE id = $1",
                                  posting.id)
    assert row is not None and (row["state"], row["attempts"]) == ("in_flight", 1)

    journal_id = uuid.uuid4()
    outcome = Outcome(posting.id, State.POSTED, succeeded(posting, journal_id),
                      journal_id=journal_id)
    await repos[0].postings.settle([outcome], {posting.id: posting.attempts + 1})
    row = await pools[2].fetchrow("SELECT state, journal_id FROM postings WHERE id = $1",
                                  posting.id)
    assert row is not None and (row["state"], row["journal_id"]) == ("posted", journal_id)
    events = await pools[2].fetch(
        "SELECT event_type FROM outbox WHERE correlation_id = $1", posting.correlation_id)
    assert [e["event_type"] for e in events] == ["gl-posting-succeeded"]


@asynccontextmanager
async def _drainer(rig: PostingRig, pool: asyncpg.Pool, batch_size: int) -> AsyncIterator[Drainer]:
    """A drainer of its own (a replica's), on the rig's auth and sandbox: no scheduler and
    no lease, so two of them can drain one organisation at once."""
    env = rig.env(POSTING_BATCH_SIZE=str(batch_size))
    # XERO_* from the same map: the nested settings read the process's environment else.
    settings = PostingSettings(**env, xero=XeroSettings(**env))  # type: ignore[arg-type]
    repo = PostingStores(pool)
    http = http_session(max_connections=8)
    drain = drain_of(settings, repo, http)
    try:
        yield drain.drainer
    finally:
        await repo.stop()
        await http.close()


async def test_two_drains_of_one_organisation_at_once_post_each_day_once(
    rig: PostingRig, pools: list[asyncpg.Pool],
) -> None:
    """Batches of 2 and of 5 over the same 5 days, both claimed before either is sent:
    their idempotency keys differ, so only the mark keeps a day from going twice."""
    store = await rig.connect("marks-1")
    days = [day_event(store, day=date(2026, 10, 1 + i)) for i in range(5)]
    async with _drainer(rig, pools[0], 2) as small, _drainer(rig, pools[1], 5) as large:
        await PostingStores(pools[0]).recording.record_many(days)
        await asyncio.gather(small.drain_once(store.tenant_id),
                             large.drain_once(store.tenant_id))
        # Whatever one left to the other (or to later) is drained now.
        while await large.drain_once(store.tenant_id):
            pass

    narrations = [j["Narration"] for j in await rig.journals(store.tenant_id)]
    assert sorted(narrations) == sorted(narration_of(d) for d in days)
    states = await pools[2].fetch("SELECT state FROM postings WHERE store_id = $1", "marks-1")
    assert {r["state"] for r in states} == {"posted"}
