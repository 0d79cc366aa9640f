"""Journals right in each kind of Xero organisation: system accounts Xero accepts, the
organisation's base currency, tax-coded lines and tracking, on the real system."""

from shared.contracts.events import ErrorKind, GlPostingFailed, GlPostingSucceeded
from tests.posting.conftest import PostingRig, day_event

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
