"""Every body posting sends to Xero is as Xero's official spec describes its requests:
the sandbox records what it received, and each body is checked here against the
spec's request schema (the sandbox also refuses one that breaks it)."""

from shared.contracts.events import GlPostingSucceeded
from tests.posting.conftest import PostingRig, day_event
from tests.support.specs import spec_errors

AMENDED = (("Cash", "1210", "120.00"), ("Rental", "4000", "-120.00"))


async def test_posting_and_voiding_send_bodies_the_spec_allows(rig: PostingRig):
    store = await rig.connect("61")
    rig.start_posting()
    await rig.publish(day_event(store))
    [first] = await rig.outcomes(1)
    assert isinstance(first, GlPostingSucceeded), first
    await rig.publish(day_event(store, revision=2, lines=AMENDED))  # posts, then voids
    [second] = await rig.outcomes(1)
    assert isinstance(second, GlPostingSucceeded), second

    received = (await rig.sandbox.client.get("/_control/requests")).json()
    writes = [(r["method"], r["path"]) for r in received]
    assert ("PUT", "/api.xro/2.0/ManualJournals") in writes
    assert any(method == "POST" and path.count("/") == 4 for method, path in writes), writes
    for request in received:
        assert spec_errors(request["body"], "ManualJournals") == [], request
