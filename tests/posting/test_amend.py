"""An amended day (a new revision) voids the earlier journal and posts the new one,
each exactly once; an older revision arriving late is superseded."""

from shared.contracts.events import GlPostingFailed, GlPostingSucceeded, JournalStatus
from tests.posting.conftest import PostingRig, day_event

AMENDED = (("Cash", "1210", "300.00"), ("Rental", "4000", "-300.00"))


async def test_an_amended_day_voids_the_earlier_journal_then_posts(rig: PostingRig):
    store = await rig.connect("3")
    rig.start_posting()
    await rig.publish(day_event(store))
    [first] = await rig.outcomes(1)
    assert isinstance(first, GlPostingSucceeded)

    amended = day_event(store, revision=2, lines=AMENDED)
    await rig.publish(amended)
    [second] = await rig.outcomes(1)
    assert isinstance(second, GlPostingSucceeded), second
    assert second.revision == 2 and second.replaced_journal_id == first.journal_id

    await rig.publish(amended)  # redelivered: nothing more happens in Xero
    [again] = await rig.outcomes(1)
    assert isinstance(again, GlPostingSucceeded) and again.already_posted

    journals = {j["ManualJournalID"]: j for j in await rig.journals(store.tenant_id)}
    assert len(journals) == 2
    assert journals[str(first.journal_id)]["Status"] == "VOIDED"
    assert journals[str(second.journal_id)]["Status"] == "POSTED"


async def test_an_older_revision_arriving_after_a_newer_one_is_superseded(rig: PostingRig):
    store = await rig.connect("4")
    rig.start_posting()
    await rig.publish(day_event(store, revision=3, lines=AMENDED))
    [newest] = await rig.outcomes(1)
    assert isinstance(newest, GlPostingSucceeded)
    await rig.publish(day_event(store, revision=2))
    [late] = await rig.outcomes(1)
    assert isinstance(late, GlPostingFailed) and late.revision == 2
    assert "revision 3" in late.errors[0].message
    [journal] = await rig.journals(store.tenant_id)
    assert journal["Status"] == "POSTED" and "[glb:4:2026-11-24:3]" in journal["Narration"]


async def test_an_amended_draft_day_deletes_the_earlier_draft(rig: PostingRig):
    """Stores that post drafts for review: a draft cannot be voided, so it is deleted."""
    store = await rig.connect("5")
    rig.start_posting()
    await rig.publish(day_event(store, status=JournalStatus.DRAFT))
    [first] = await rig.outcomes(1)
    assert isinstance(first, GlPostingSucceeded)
    await rig.publish(day_event(store, revision=2, lines=AMENDED, status=JournalStatus.DRAFT))
    [second] = await rig.outcomes(1)
    assert isinstance(second, GlPostingSucceeded), second
    assert second.replaced_journal_id == first.journal_id
    statuses = {j["ManualJournalID"]: j["Status"] for j in await rig.journals(store.tenant_id)}
    assert statuses[str(first.journal_id)] == "DELETED"
    assert statuses[str(second.journal_id)] == "DRAFT"


async def test_a_refused_amendment_leaves_the_earlier_journal_live(rig: PostingRig):
    """Xero refuses the new revision (its account was archived in Xero after posting read
    the chart, so only Xero sees it): the earlier journal was not voided first, and the
    day says so."""
    store = await rig.connect("6")
    rig.start_posting()
    await rig.publish(day_event(store))
    [first] = await rig.outcomes(1)
    assert isinstance(first, GlPostingSucceeded)
    archived = await rig.sandbox.client.patch(
        f"/_control/organisations/{store.tenant_id}",
        json={"accounts": [{"Code": "4000", "Status": "ARCHIVED"}]})
    archived.raise_for_status()

    await rig.publish(day_event(store, revision=2, lines=AMENDED))
    [second] = await rig.outcomes(1)
    assert isinstance(second, GlPostingFailed), second
    assert "Account code '4000' has been archived" in (second.errors[0].xero_message or "")
    assert second.errors[-1].message.startswith(
        f"Amendment refused, revision 1 still in Xero (journal {first.journal_id})")
    [journal] = await rig.journals(store.tenant_id)
    assert journal["ManualJournalID"] == str(first.journal_id)
    assert journal["Status"] == "POSTED"


async def test_a_void_sends_the_journal_as_posted(rig: PostingRig):
    """The sandbox refuses a void body without the spec's required Narration: the amended
    day posting at all shows the void carried it (and the journal as it was posted)."""
    store = await rig.connect("7")
    rig.start_posting()
    await rig.publish(day_event(store))
    [first] = await rig.outcomes(1)
    assert isinstance(first, GlPostingSucceeded)
    await rig.publish(day_event(store, revision=2, lines=AMENDED))
    [second] = await rig.outcomes(1)
    assert isinstance(second, GlPostingSucceeded), second
    statuses = {j["ManualJournalID"]: j for j in await rig.journals(store.tenant_id)}
    voided = statuses[str(first.journal_id)]
    assert voided["Status"] == "VOIDED"
    assert [ln["AccountCode"] for ln in voided["JournalLines"]] == ["1210", "1230", "4000", "2210"]
