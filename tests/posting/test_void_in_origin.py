"""A day amended after its store moved to another organisation: the earlier journal is
voided in the organisation it was posted to, or the day fails saying so; it is never
taken for already deleted because the store's new organisation does not have it."""

from shared.contracts.events import GlPostingFailed, GlPostingSucceeded
from tests.posting.conftest import DAY, PostingRig, day_event

AMENDED = (("Cash", "1210", "300.00"), ("Rental", "4000", "-300.00"))
# Another organisation on the same chart, of another Xero user.
SECOND = "Second Rentals (US)"
MULTI = ("multi@example.com", "multi-password", SECOND)


async def _statuses(rig: PostingRig, tenant_id: object) -> dict[str, str]:
    return {j["ManualJournalID"]: j["Status"] for j in await rig.journals(str(tenant_id))}


async def test_the_earlier_journal_is_voided_in_the_organisation_it_was_posted_to(
    rig: PostingRig,
) -> None:
    store = await rig.connect("31")
    neighbour = await rig.connect("32")  # keeps the first organisation connected
    await rig.new_org(SECOND, email="multi@example.com")
    rig.start_posting()
    await rig.publish(day_event(store))
    [first] = await rig.outcomes(1)
    assert isinstance(first, GlPostingSucceeded)
    await rig.publish(day_event(neighbour, day=DAY.replace(day=23)))
    [other] = await rig.outcomes(1)
    assert isinstance(other, GlPostingSucceeded)

    moved = await rig.move(store, *MULTI)
    assert moved.tenant_id != store.tenant_id
    await rig.publish(day_event(moved, revision=2, lines=AMENDED))
    [second] = await rig.outcomes(1)
    assert isinstance(second, GlPostingSucceeded), second
    assert second.replaced_journal_id == first.journal_id
    assert (await _statuses(rig, store.tenant_id))[str(first.journal_id)] == "VOIDED"
    assert (await _statuses(rig, moved.tenant_id))[str(second.journal_id)] == "POSTED"


async def test_an_earlier_journal_in_an_organisation_no_longer_connected_fails_the_day(
    rig: PostingRig,
) -> None:
    store = await rig.connect("41")
    await rig.new_org(SECOND, email="multi@example.com")
    rig.start_posting()
    await rig.publish(day_event(store))
    [first] = await rig.outcomes(1)
    assert isinstance(first, GlPostingSucceeded)

    moved = await rig.move(store, *MULTI)
    # A new posting process: no access token of the ended connection kept from before.
    rig.postings.pop().stop()
    rig.start_posting()
    await rig.publish(day_event(moved, revision=2, lines=AMENDED))
    [second] = await rig.outcomes(1)
    assert isinstance(second, GlPostingFailed), second
    [error] = second.errors
    assert "could not be voided, so both are live" in error.message
    assert error.xero_message is not None
    assert f"organisation {store.tenant_id}, which this store no longer connects to" in (
        error.xero_message)
    assert (await _statuses(rig, store.tenant_id))[str(first.journal_id)] == "POSTED"
