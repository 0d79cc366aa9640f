"""The path of one event, end to end, with real processes."""

from datetime import timedelta

import httpx

from shared.contracts.events import GlPostingFailed, GlPostingSucceeded
from tests.posting.conftest import CREDENTIALS, DAY, PostingRig, day_event
from tests.posting.test_crash import wait_for_state


async def test_a_closed_day_becomes_one_journal_in_xero(rig: PostingRig):
    store = await rig.connect("1")
    rig.start_posting()
    event = day_event(store)
    await rig.publish(event)

    [outcome] = await rig.outcomes(1)
    assert isinstance(outcome, GlPostingSucceeded), outcome
    assert (outcome.store_id, outcome.business_date, outcome.revision) == ("1", DAY, 1)
    assert outcome.correlation_id == event.correlation_id
    assert outcome.causation_id == str(event.event_id)
    assert not outcome.already_posted
    [journal] = await rig.journals(store.tenant_id)
    assert journal["ManualJournalID"] == str(outcome.journal_id)
    assert journal["Status"] == "POSTED"
    assert "[glb:1:2026-11-24:1]" in journal["Narration"]
    assert len(journal["JournalLines"]) == 4

    async with httpx.AsyncClient(base_url=rig.postings[0].url) as client:
        assert (await client.get("/internal/v1/postings/1/2026-11-24")).status_code == 401
        status = await client.get("/internal/v1/postings/1/2026-11-24",
                                  headers=CREDENTIALS.bearer("ops"))
    [revision] = status.json()["revisions"]
    assert revision["state"] == "posted" and revision["journal_id"] == str(outcome.journal_id)


async def test_a_duplicate_event_republishes_the_outcome_and_posts_nothing(rig: PostingRig):
    store = await rig.connect("1")
    rig.start_posting()
    event = day_event(store)
    await rig.publish(event)
    [first] = await rig.outcomes(1)
    assert isinstance(first, GlPostingSucceeded)

    await rig.publish(event)  # redelivered as is
    await rig.publish(day_event(store))  # the same day and revision, another event id
    again = await rig.outcomes(2)
    assert len(again) == 2
    assert all(isinstance(e, GlPostingSucceeded) and e.already_posted for e in again)
    assert {e.journal_id for e in again if isinstance(e, GlPostingSucceeded)} == {
        first.journal_id
    }
    assert len(await rig.journals(store.tenant_id)) == 1


async def test_failure_outcome_is_republished_too(rig: PostingRig):
    store = await rig.connect("1")
    rig.start_posting()
    event = day_event(store, lines=(("Cash", "1210", "10"), ("Rental", "4999", "-10")))
    await rig.publish(event)
    [first] = await rig.outcomes(1)
    assert isinstance(first, GlPostingFailed)
    await rig.publish(event)
    [again] = await rig.outcomes(1)
    assert isinstance(again, GlPostingFailed) and again.errors == first.errors
    assert await rig.journals(store.tenant_id) == []


async def test_a_day_arriving_while_its_organisation_drains_is_posted_without_a_poll(
    rig: PostingRig,
):
    """The drain may have claimed its last batch before the day was recorded: when the
    drain ends, the scheduler looks again at once (the poll here is a minute away)."""
    store = await rig.connect("31")
    rig.start_posting(POSTING_POLL_S="60")
    await rig.faults(latency_ms={"min": 1500, "max": 1500})
    await rig.publish(day_event(store))
    await wait_for_state(rig.database_url, "in_flight")  # the drain is in Xero's call
    await rig.publish(day_event(store, day=DAY + timedelta(days=1)))
    outcomes = await rig.outcomes(2, timeout=20)
    assert all(isinstance(o, GlPostingSucceeded) for o in outcomes), outcomes
    assert sorted(o.business_date for o in outcomes) == [DAY, DAY + timedelta(days=1)]
