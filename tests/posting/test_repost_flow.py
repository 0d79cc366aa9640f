"""Posting's side of the correction loop, over the broker: a redelivery of the event that
failed repeats the failure; a new request for the same revision is a new attempt."""

from uuid import uuid4

from shared.contracts.events import GlPostingFailed, GlPostingSucceeded
from tests.posting.conftest import PostingRig, day_event


async def test_only_a_new_request_tries_a_failed_day_again(rig: PostingRig):
    store = await rig.connect("17")
    rig.start_posting()
    failing = day_event(store, lines=(("cash", "1210", "10"), ("rental", "4011", "-10")))
    await rig.publish(failing)
    [first] = await rig.outcomes(1)
    assert isinstance(first, GlPostingFailed), first

    await rig.sandbox.client.patch(
        f"/_control/organisations/{store.tenant_id}",
        json={"accounts": [{"Code": "4011", "Name": "Equipment Rental", "Type": "REVENUE"}]})
    await rig.publish(failing)  # the broker delivering the same event again
    [repeated] = await rig.outcomes(1)
    assert isinstance(repeated, GlPostingFailed) and repeated.errors == first.errors

    await rig.publish(failing.model_copy(update={"event_id": uuid4()}))  # asked again
    [posted] = await rig.outcomes(1)
    assert isinstance(posted, GlPostingSucceeded), posted
    assert posted.already_posted is False
    assert len(await rig.journals(store.tenant_id)) == 1
