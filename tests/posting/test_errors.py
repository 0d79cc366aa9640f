"""Each kind of error becomes a gl-posting-failed that names the Account Numbers entry,
says what to change and carries Xero's words when Xero said something."""

from datetime import date, timedelta

import pytest

from shared.contracts.events import ErrorKind, GlPostingFailed, GlPostingSucceeded
from tests.posting.conftest import DAY, PostingRig, day_event


def by_day(events):
    return {e.business_date: e for e in events}


async def test_each_error_kind_produces_the_right_failure(rig: PostingRig):
    store = await rig.connect("7")
    rig.start_posting()
    days = [DAY + timedelta(days=i) for i in range(8)]
    cases = {
        days[0]: ((("Cash", "1210", "10"), ("Rental", "4999", "-10")), None),
        days[1]: ((("Cash", "1210", "10"), ("Old rental", "4095", "-10")), None),
        days[2]: ((("Bank deposits", "090", "10"), ("Rental", "4000", "-10")), None),
        days[3]: ((("AR charges", "1100", "10"), ("Rental", "4000", "-10")), None),
        days[4]: ((("Cash", "1210", "10"), ("Rental", "4000", "-10")), {"Cash": "TAX001"}),
        days[5]: ((("Cash", "1210", "10"), ("Rental", "4000", "-9.50")), None),
        days[6]: ((("Cash", "1210", "10"), ("Rental", "4000", "-10")), None),
    }
    await rig.publish(*(
        day_event(store, day, lines=lines, tax_types=taxes)
        for day, (lines, taxes) in cases.items()
    ))
    outcomes = by_day(await rig.outcomes(len(cases)))
    assert len(outcomes) == len(cases)

    def only_error(day: date):
        outcome = outcomes[day]
        assert isinstance(outcome, GlPostingFailed), outcome
        assert not outcome.retryable
        [error] = outcome.errors
        return error

    unknown = only_error(days[0])
    assert (unknown.kind, unknown.category, unknown.account_code) == (
        ErrorKind.UNKNOWN_ACCOUNT, "Rental", "4999")
    assert "4999" in unknown.message and "Rental" in unknown.message
    archived = only_error(days[1])
    assert (archived.kind, archived.category, archived.account_code) == (
        ErrorKind.ARCHIVED_ACCOUNT, "Old rental", "4095")
    bank = only_error(days[2])
    assert (bank.kind, bank.category, bank.account_code) == (
        ErrorKind.BANK_ACCOUNT, "Bank deposits", "090")
    assert "clearing account" in bank.message and "1210" in bank.message
    system = only_error(days[3])
    assert (system.kind, system.category, system.account_code) == (
        ErrorKind.SYSTEM_ACCOUNT, "AR charges", "1100")
    assert "clearing account" in system.message and "1300" in system.message
    tax = only_error(days[4])
    assert (tax.kind, tax.category, tax.account_code) == (ErrorKind.TAX_TYPE, "Cash", "1210")
    assert "TAX001" in tax.message and "cannot be used on account 1210" in tax.message
    unbalanced = only_error(days[5])
    assert unbalanced.kind == ErrorKind.UNBALANCED and "0.50" in unbalanced.message
    assert isinstance(outcomes[days[6]], GlPostingSucceeded)
    assert len(await rig.journals(store.tenant_id)) == 1


async def test_a_day_in_a_locked_period_fails_and_posts_after_the_lock_moves(rig: PostingRig):
    store = await rig.connect("8")
    patch = await rig.sandbox.client.patch(
        f"/_control/organisations/{store.tenant_id}", json={"period_lock_date": "2026-11-30"}
    )
    patch.raise_for_status()
    rig.start_posting(POSTING_CHART_TTL_S="0.5")
    await rig.publish(day_event(store))
    [outcome] = await rig.outcomes(1)
    assert isinstance(outcome, GlPostingFailed)
    [error] = outcome.errors
    assert error.kind == ErrorKind.LOCKED_PERIOD and "2026-11-30" in error.message

    # The accountant moves the lock date; the manager reprints the day (a new revision).
    await rig.sandbox.client.patch(
        f"/_control/organisations/{store.tenant_id}", json={"period_lock_date": "2026-10-31"}
    )
    await rig.publish(day_event(store, revision=2))
    [outcome] = await rig.outcomes(1)
    assert isinstance(outcome, GlPostingSucceeded), outcome


async def test_an_adviser_posts_inside_the_period_lock_and_dates_east_of_utc_are_read_right(
        rig: PostingRig):
    """The period lock binds every user but an adviser; the end of year lock binds all.
    The organisation is east of UTC: Xero writes its lock dates `/Date(ms+1300)/`."""
    adviser = await rig.sandbox.client.post("/_control/users", json={
        "email": "adviser@example.com", "password": "adviser-password", "role": "ADVISER"})
    adviser.raise_for_status()
    tenant_id = await rig.new_org("Adviser Rentals (US)", email="adviser@example.com")
    (await rig.sandbox.client.patch(f"/_control/organisations/{tenant_id}", json={
        "utc_offset_minutes": 780, "period_lock_date": DAY.isoformat(),
        "end_of_year_lock_date": (DAY - timedelta(days=1)).isoformat()})).raise_for_status()
    store = await rig.connect("41", "adviser@example.com", "adviser-password")
    rig.start_posting()
    await rig.publish(day_event(store))  # after the end of year lock, inside the period lock
    [posted] = await rig.outcomes(1)
    assert isinstance(posted, GlPostingSucceeded), posted

    await rig.publish(day_event(store, DAY - timedelta(days=1)))
    [refused] = await rig.outcomes(1)
    assert isinstance(refused, GlPostingFailed)
    [error] = refused.errors
    assert error.kind == ErrorKind.LOCKED_PERIOD
    assert "end of year lock date" in error.message
    assert (DAY - timedelta(days=1)).isoformat() in error.message


@pytest.mark.parametrize(
    ("token_expired", "kind"),
    [(True, ErrorKind.REAUTH_NEEDED), (False, ErrorKind.DISCONNECTED)],
    ids=["refresh-refused", "access-refused"],
)
async def test_a_revoked_connection_fails_at_once_without_retrying(
    rig: PostingRig, token_expired: bool, kind: ErrorKind
):
    """Access revoked in Xero: with a live token Xero answers 403 (disconnected); once the
    token has expired, auth's refresh is refused (reauth needed). Neither is retried."""
    store = await rig.connect("9")
    rig.start_posting()
    await rig.publish(day_event(store))
    [first] = await rig.outcomes(1)
    assert isinstance(first, GlPostingSucceeded)

    (await rig.sandbox.client.post("/_control/revoke", json={"email": "demo@example.com"})
     ).raise_for_status()
    if token_expired:
        (await rig.sandbox.client.post("/_control/clock/advance", json={"seconds": 1900})
         ).raise_for_status()
    await rig.publish(day_event(store, DAY + timedelta(days=1)))
    [outcome] = await rig.outcomes(1)
    assert isinstance(outcome, GlPostingFailed), outcome
    assert not outcome.retryable
    [error] = outcome.errors
    assert error.kind == kind
    assert "connect" in error.message.lower()
