"""A void Xero refuses: the amended day is in Xero, but its period was locked before the
earlier journal could be voided, so both are live. The day fails saying so (and what to
do); the earlier journal is never taken for voided."""

from shared.contracts.events import GlPostingFailed, GlPostingSucceeded
from tests.posting.conftest import DAY, PostingRig, day_event
from tests.posting.test_crash import journals_appear

AMENDED = (("Cash", "1210", "300.00"), ("Rental", "4000", "-300.00"))


async def test_a_void_refused_in_a_locked_period_fails_the_day_with_both_live(rig: PostingRig):
    store = await rig.connect("71")
    # Time enough, while the amendment's answer is awaited, for the accountant's lock.
    rig.start_posting(POSTING_IN_FLIGHT_GRACE_S="5")
    await rig.publish(day_event(store))
    [first] = await rig.outcomes(1)
    assert isinstance(first, GlPostingSucceeded), first

    # The amendment reaches Xero but its answer is lost: posting looks it up after the
    # grace period, then voids the earlier journal.
    await rig.faults(tenant_id=str(store.tenant_id), lose_write_answers=1, lost_answer="drop")
    await rig.publish(day_event(store, revision=2, lines=AMENDED))
    await journals_appear(rig, store.tenant_id, 2)
    # Meanwhile the period is locked: Xero refuses a change to a journal dated on or
    # before the lock date, a void included ("The document date cannot be before the
    # period lock date...", quoted in help.dext.com "How do Xero lock dates affect
    # publishing"; the sandbox's lock_message).
    (await rig.sandbox.client.patch(f"/_control/organisations/{store.tenant_id}",
                                    json={"period_lock_date": DAY.isoformat()})
     ).raise_for_status()

    [second] = await rig.outcomes(1, timeout=60)
    assert isinstance(second, GlPostingFailed), second
    assert not second.retryable
    [error] = second.errors
    assert f"earlier journal {first.journal_id} (revision 1) could not be voided" in (
        error.message)
    assert "unlock its period" in error.message
    assert "lock" in (error.xero_message or "").lower(), error.xero_message
    statuses = {j["ManualJournalID"]: j["Status"] for j in await rig.journals(store.tenant_id)}
    assert statuses[str(first.journal_id)] == "POSTED"
    assert sorted(statuses.values()) == ["POSTED", "POSTED"]
