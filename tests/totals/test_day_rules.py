"""A day's revision decisions and what the POS shows for a failure, pinned where the
other tests leave room (services/totals/domain/day.py): what a new revision clears,
which connection a reprint assumes, what a failure keeps, and a failure's full words."""

from dataclasses import replace
from decimal import Decimal
from uuid import UUID

import pytest

from services.totals.domain.day import (
    DayState,
    DayStatus,
    apply_failed,
    apply_succeeded,
    cause_owner,
    decide_close,
    decide_post,
    message,
)
from services.totals.domain.journal import BuiltDay
from shared.contracts.events import (
    ErrorKind,
    GlPostingFailed,
    GlPostingSucceeded,
    JournalLine,
    JournalStatus,
    PostingError,
)

JOURNAL = UUID("6f1c0d4e-8a43-4a8e-9d1e-3b7f1f0c2a55")
TENANT = UUID("11111111-2222-4333-8444-555555555555")
COMMON = {"correlation_id": "12:2026-11-20", "store_id": "12",
          "business_date": "2026-11-20"}


def built(fingerprint: str) -> BuiltDay:
    line = JournalLine(category="cash", account_code="1210", amount=Decimal("1.00"))
    return BuiltDay((line,), JournalStatus.POSTED, fingerprint)


def failure(revision: int, *kinds: ErrorKind, retryable: bool) -> GlPostingFailed:
    return GlPostingFailed(**COMMON, revision=revision, retryable=retryable,
                           errors=[PostingError(kind=k, message="m") for k in kinds])


FAILED = DayState(1, "a", DayStatus.FAILED, errors=({"kind": "unknown-account"},),
                  retryable=False)


def test_an_amendment_clears_the_failure_it_replaces() -> None:
    amended = decide_close(FAILED, built("b"), auto_post=True)
    assert amended.state == DayState(2, "b", DayStatus.PENDING, errors=(), retryable=None)
    assert (amended.outcome, amended.publish) == ("amended", True)


def test_a_first_close_starts_at_revision_one_clean() -> None:
    for auto_post, status in ((True, DayStatus.PENDING), (False, DayStatus.NOT_POSTED)):
        first = decide_close(None, built("a"), auto_post=auto_post)
        assert first.state == DayState(1, "a", status)


def test_a_reprint_assumes_a_working_connection_unless_told() -> None:
    queued = decide_post(FAILED, built("a"))
    assert queued.state == replace(FAILED, status=DayStatus.PENDING, errors=(), retryable=None)
    assert (queued.outcome, queued.publish) == ("queued", True)


def test_a_reprint_clears_a_retryable_failure_too() -> None:
    retryable = replace(FAILED, retryable=True)
    assert decide_post(retryable, built("a")).state.retryable is None


def test_a_changed_reprint_is_held_while_the_connection_needs_a_key() -> None:
    held = decide_post(FAILED, built("b"), connection_ok=False)
    assert held.state == DayState(2, "b", DayStatus.WAITING_FOR_NEW_KEY, errors=(),
                                  retryable=None)
    assert (held.outcome, held.publish) == ("queued", False)


@pytest.mark.parametrize("retryable", [True, False])
def test_a_failure_keeps_whether_posting_may_retry_it(retryable: bool) -> None:
    pending = DayState(1, "a", DayStatus.PENDING)
    failed = apply_failed(pending, failure(1, ErrorKind.XERO_UNAVAILABLE, retryable=retryable))
    assert failed is not None and failed.retryable is retryable


def test_a_failures_errors_are_kept_as_the_json_they_are_stored_as() -> None:
    failed = apply_failed(DayState(1, "a", DayStatus.PENDING),
                          failure(1, ErrorKind.LOCKED_PERIOD, retryable=False))
    assert failed is not None
    assert failed.errors == ({"kind": "locked-period", "category": None,
                              "account_code": None, "message": "m", "xero_message": None,
                              "retryable": False},)
    assert type(failed.errors[0]["kind"]) is str  # not the enum: a plain JSON string


@pytest.mark.parametrize("kind", [ErrorKind.REAUTH_NEEDED, ErrorKind.DISCONNECTED,
                                  ErrorKind.SCOPE_MISSING])
def test_a_failure_that_needs_a_new_key_waits_for_it(kind: ErrorKind) -> None:
    failed = apply_failed(DayState(1, "a", DayStatus.PENDING),
                          failure(1, ErrorKind.UNKNOWN_ACCOUNT, kind, retryable=True))
    assert failed is not None and failed.status == DayStatus.WAITING_FOR_NEW_KEY


def test_a_success_of_the_current_revision_after_an_earlier_one() -> None:
    day = DayState(2, "b", DayStatus.PENDING, posted_revision=1, journal_id=JOURNAL)
    later = UUID("22222222-2222-4333-8444-555555555555")
    done = apply_succeeded(day, GlPostingSucceeded(
        **COMMON, revision=2, tenant_id=TENANT, journal_id=later,
        replaced_journal_id=JOURNAL))
    assert done == DayState(2, "b", DayStatus.POSTED, posted_revision=2, journal_id=later,
                            replaced_journal_id=JOURNAL)


SETUP_ADVICE = ("fix the entries named below in the setup or in Xero's chart of accounts, "
                "then post the day again")


@pytest.mark.parametrize(("kinds", "owner", "advice"), [
    ((), "Account Numbers setup", SETUP_ADVICE),
    (("unknown-account",), "Account Numbers setup", SETUP_ADVICE),
    (("reauth-needed",), "the connection",
     "connect the store to Xero again (Account Numbers setup, API Key box), then post"),
    (("rate-limited",), "Xero unavailable", "nothing to fix: post the day again later"),
    (("locked-period",), "Xero organisation settings",
     "ask your accountant to move the lock date in Xero, then post the day again"),
    (("unbalanced",), "the day's totals",
     "check the day's totals at the POS, then close or reprint the day"),
    # The first owner in order heads the message: the connection hides everything else.
    (("unbalanced", "locked-period", "xero-unavailable", "disconnected"), "the connection",
     "connect the store to Xero again (Account Numbers setup, API Key box), then post"),
    (("unbalanced", "locked-period"), "Xero organisation settings",
     "ask your accountant to move the lock date in Xero, then post the day again"),
])
def test_whose_the_cause_is_and_what_to_do(kinds: tuple[str, ...], owner: str,
                                            advice: str) -> None:
    errors: tuple[dict[str, object], ...] = tuple({"kind": kind, "message": "m"}
                                                  for kind in kinds)
    assert cause_owner(errors) == (owner, advice)


def test_an_error_without_a_kind_is_the_setups() -> None:
    assert cause_owner(({"message": "m"},))[0] == "Account Numbers setup"


def test_a_failure_in_full() -> None:
    state = DayState(1, "a", DayStatus.FAILED, errors=({"kind": "locked-period"},
                                                       {"kind": "unknown-account"}))
    assert message(state) == (
        "Posting failed (2 error(s)), to be fixed in: Xero organisation settings. What to "
        "do: ask your accountant to move the lock date in Xero, then post the day again.")


def test_a_refused_amendment_says_the_earlier_revision_is_still_in_xero() -> None:
    state = DayState(3, "c", DayStatus.FAILED, posted_revision=2, journal_id=JOURNAL,
                     errors=({"kind": "unknown-account"},))
    assert message(state) == (
        f"Amendment refused, revision 2 still in Xero (journal {JOURNAL}). Posting failed "
        f"(1 error(s)), to be fixed in: Account Numbers setup. What to do: {SETUP_ADVICE}.")


@pytest.mark.parametrize("posted_revision", [None, 3, 4])
def test_a_failure_of_a_revision_not_behind_xero_says_nothing_of_it(
    posted_revision: int | None
) -> None:
    state = DayState(3, "c", DayStatus.FAILED, posted_revision=posted_revision,
                     journal_id=JOURNAL, errors=({"kind": "unknown-account"},))
    assert message(state).startswith("Posting failed (1 error(s))")


def test_a_posted_amendment_names_the_journal_it_replaced() -> None:
    earlier = UUID("33333333-2222-4333-8444-555555555555")
    state = DayState(2, "b", DayStatus.POSTED, posted_revision=2, journal_id=JOURNAL,
                     replaced_journal_id=earlier)
    assert message(state) == (f"Posted to Xero (journal {JOURNAL}); it replaces journal "
                              f"{earlier}, which was voided in Xero.")


def test_a_late_failure_after_the_success_changes_nothing() -> None:
    posted = DayState(1, "a", DayStatus.POSTED, posted_revision=1, journal_id=JOURNAL)
    assert apply_failed(posted, failure(1, ErrorKind.XERO_UNAVAILABLE, retryable=True)) is None
    # A failure of the current revision still counts while an earlier one is in Xero.
    amended = DayState(2, "b", DayStatus.PENDING, posted_revision=1, journal_id=JOURNAL)
    failed = apply_failed(amended, failure(2, ErrorKind.UNKNOWN_ACCOUNT, retryable=False))
    assert failed is not None and failed.status == DayStatus.FAILED
