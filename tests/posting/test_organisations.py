"""Journals right in each kind of Xero organisation: system accounts Xero accepts, the
organisation's base currency, tax-coded lines and tracking, on the real system."""

from shared.contracts.events import (
    ErrorKind,
    GlPostingFailed,
    GlPostingSucceeded,
    StoreTotalsClosed,
    Tracking,
)
from tests.posting.conftest import PostingRig, Store, day_event
from tests.support.processes import ServiceProcess

NZ = {"email": "multi@example.com", "password": "multi-password",
      "tenant_name": "Kiwi Hire (NZ)"}


async def test_a_line_on_the_gst_system_account_posts(rig: PostingRig):
    """Xero refuses only some system accounts in manual journals (receivables, payables,
    wages payable, ...); GST/VAT is not one of them."""
    store = await rig.connect("21", **NZ)
    rig.start_posting()
    await rig.publish(day_event(store, lines=(("Cash", "620", "115.00"),
                                              ("Hire", "210", "-100.00"),
                                              ("GST", "820", "-15.00"))))
    [outcome] = await rig.outcomes(1)
    assert isinstance(outcome, GlPostingSucceeded), outcome


async def test_a_line_on_accounts_receivable_is_refused_before_xero(rig: PostingRig):
    store = await rig.connect("22", **NZ)
    rig.start_posting()
    await rig.publish(day_event(store, lines=(("On account", "610", "100.00"),
                                              ("Hire", "210", "-100.00"))))
    [outcome] = await rig.outcomes(1)
    assert isinstance(outcome, GlPostingFailed), outcome
    assert [e.kind for e in outcome.errors] == [ErrorKind.SYSTEM_ACCOUNT]
    assert await rig.journals(store.tenant_id) == []


def tracked(store: Store) -> StoreTotalsClosed:
    event = day_event(store, lines=(("Cash", "620", "10.00"), ("Hire", "210", "-10.00")))
    lines = [line.model_copy(update={"tracking": [Tracking(name="Store", option="Store 7")]})
             for line in event.journal.lines]
    return event.model_copy(update={"journal": event.journal.model_copy(
        update={"lines": lines})})


async def options_of(rig: PostingRig, tenant_id: object) -> set[str]:
    orgs = (await rig.sandbox.client.get("/_control/organisations")).json()
    [org] = [o for o in orgs if o["tenant_id"] == str(tenant_id)]
    return {o["Name"] for c in org["tracking"] for o in c["Options"]}


async def test_a_missing_tracking_option_fails_naming_it_when_not_created(rig: PostingRig):
    store = await rig.connect("23", **NZ)
    rig.start_posting(POSTING_CREATE_TRACKING_OPTIONS="true")  # but no settings scope
    await rig.publish(tracked(store))
    [outcome] = await rig.outcomes(1)
    assert isinstance(outcome, GlPostingFailed), outcome
    [error] = outcome.errors
    assert error.kind == ErrorKind.TRACKING and '"Store 7"' in error.message
    assert "Store 7" not in await options_of(rig, store.tenant_id)


async def test_a_missing_tracking_option_is_created_when_the_operator_allows_it(
    rig: PostingRig,
):
    assert rig.auth is not None
    rig.auth.stop()
    rig.auth = ServiceProcess("services.auth", rig.auth_port, rig.env(XERO_SCOPES=(
        "offline_access accounting.manualjournals accounting.settings")), rig.log_dir)
    rig.auth.start("/readyz", 30)
    store = await rig.connect("24", **NZ)
    rig.start_posting(POSTING_CREATE_TRACKING_OPTIONS="true")
    await rig.publish(tracked(store))
    [outcome] = await rig.outcomes(1)
    assert isinstance(outcome, GlPostingSucceeded), outcome
    assert "Store 7" in await options_of(rig, store.tenant_id)
