"""Xero processed the request and the answer was lost: the journal is stored, posting
never heard so (the connection dropped, the answer came too late, a 5xx after the
commit). Every day still ends in Xero exactly once: a day whose answer was lost is
looked up by its narration before anything is sent again, and a resend carries the
same `Idempotency-Key`, so Xero answers it with the first answer instead of a second
journal."""

from collections import Counter
from datetime import timedelta
from uuid import UUID

import pytest

from shared.contracts.events import GlPostingSucceeded
from tests.posting.conftest import DAY, PostingRig, Store, day_event
from tests.posting.test_crash import journals_appear

# The sandbox remembers an Idempotency-Key this long (SANDBOX_IDEMPOTENCY_TTL_S default).
SANDBOX_KEY_TTL_S = 600


async def lose_answers(rig: PostingRig, store: Store, **faults: object) -> None:
    await rig.faults(tenant_id=str(store.tenant_id), **faults)


async def narrations_in_xero(rig: PostingRig, tenant_id: UUID) -> Counter[str]:
    return Counter(j["Narration"] for j in await rig.journals(tenant_id)
                   if j["Status"] == "POSTED")


@pytest.mark.parametrize("lost_answer", ["drop", "timeout", "error"])
async def test_every_answer_lost_after_the_commit_each_day_is_in_xero_once(
    rig: PostingRig, lost_answer: str
):
    store = await rig.connect(f"4{len(lost_answer)}")
    rig.start_posting()
    # Every write is stored and then its answer lost, resends included: only the lookup
    # by narration can tell posting that the days are in Xero.
    await lose_answers(rig, store, lost_write_answer_rate=1.0, lost_answer=lost_answer)
    days = [DAY + timedelta(days=n) for n in range(3)]
    events = [day_event(store, day) for day in days]
    await rig.publish(*events)
    outcomes = await rig.outcomes_of_days(days, timeout=90)
    assert {o.business_date for o in outcomes} == set(days), outcomes
    assert all(isinstance(o, GlPostingSucceeded) and o.already_posted for o in outcomes), \
        outcomes
    assert await narrations_in_xero(rig, store.tenant_id) == Counter(
        e.journal.narration for e in events)


async def test_a_resend_xero_cannot_find_yet_carries_the_same_idempotency_key(rig: PostingRig):
    store = await rig.connect("47")
    rig.start_posting()
    # The first answer is lost and the journal is not yet in Xero's lists, so the lookup
    # finds nothing and posting sends the day again: only the key stops a second journal.
    await lose_answers(rig, store, lose_write_answers=1, lost_answer="drop",
                       search_lag_s=3600)
    event = day_event(store)
    await rig.publish(event)
    [outcome] = await rig.outcomes(1, timeout=60)
    assert isinstance(outcome, GlPostingSucceeded), outcome
    [journal] = await rig.journals(store.tenant_id)
    assert journal["ManualJournalID"] == str(outcome.journal_id)


async def test_a_day_whose_answer_was_lost_is_looked_up_before_it_is_sent_again(
    rig: PostingRig,
):
    store = await rig.connect("48")
    rig.start_posting()
    await lose_answers(rig, store, lose_write_answers=1, lost_answer="drop")
    event = day_event(store)
    await rig.publish(event)
    await journals_appear(rig, store.tenant_id, 1)
    # Xero has forgotten the key by the time posting comes back (a long outage): a resend
    # without the lookup would make a second journal.
    (await rig.sandbox.client.post("/_control/clock/advance",
                                   json={"seconds": SANDBOX_KEY_TTL_S + 1})).raise_for_status()
    [outcome] = await rig.outcomes(1, timeout=60)
    assert isinstance(outcome, GlPostingSucceeded) and outcome.already_posted, outcome
    [journal] = await rig.journals(store.tenant_id)
    assert journal["ManualJournalID"] == str(outcome.journal_id)


AMENDED_LINES = (
    ("Cash", "1210", "260.00"),
    ("Visa", "1230", "120.50"),
    ("Rental", "4000", "-340.50"),
    ("Sales tax", "2210", "-40.00"),
)


async def test_an_amendment_waits_while_the_earlier_revision_is_in_flight(rig: PostingRig):
    """Revision 2 arrives while revision 1's answer is lost (its outcome unknown): it is
    not posted until revision 1 is resolved, so the day ends with one live journal, the
    amended one. (Holds for either amendment order: void then post, or post then void.)"""
    store = await rig.connect("49")
    rig.start_posting()
    await lose_answers(rig, store, lose_write_answers=1, lost_answer="drop")
    first = day_event(store)
    await rig.publish(first)
    await journals_appear(rig, store.tenant_id, 1)  # in Xero; posting does not know yet
    amended = day_event(store, revision=2, lines=AMENDED_LINES)
    await rig.publish(amended)
    outcomes = await rig.outcomes(2, timeout=60)
    assert {(o.revision, type(o)) for o in outcomes} >= {(2, GlPostingSucceeded)}, outcomes
    live = [j for j in await rig.journals(store.tenant_id) if j["Status"] == "POSTED"]
    assert [j["Narration"] for j in live] == [amended.journal.narration]
