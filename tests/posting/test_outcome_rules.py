"""Xero's refusals read into the manager's words, pure: which lock refused the day and who
can act on it (help.xero.com "Set and work with lock dates"), and which Account Numbers
entries a refused code comes from, whatever the case Xero writes it in."""

import pytest

from services.posting.domain.batching import chunks, group_by, linger_s
from services.posting.domain.outcome import categories_of, locked_error, xero_error
from shared.contracts.events import ErrorKind, JournalLine, money

PERIOD = ("The day is on or before the period lock date in Xero, which binds every user but"
          " an adviser: connect the store as a Xero user with the Adviser role, or ask your"
          " accountant to move the period lock date, then post the day again.")
YEAR = ("The day is on or before the end of year lock date in Xero, which binds every user,"
        " advisers too: ask your accountant to move it, then post the day again.")
OTHER = ("The day is inside a period locked in Xero: ask your accountant to move the lock"
         " date, then post the day again.")


@pytest.mark.parametrize(("message", "advice"), [
    # Xero's wording (waynerobinson/xeroizer#92) names the date in its own format.
    ("The document date cannot be before the period lock date, currently set at"
     " 31-Jul-2013", f"{PERIOD} Lock date: 31-Jul-2013."),
    ("The document date cannot be before the end of year lock date, currently set at"
     " 2025-12-31", f"{YEAR} Lock date: 2025-12-31."),
    ("Year-end lock in place", YEAR),
    ("The period is locked", OTHER),
])
def test_a_lock_refusal_names_the_lock_and_who_can_act(message: str, advice: str) -> None:
    assert locked_error(message).model_dump() == {
        "kind": ErrorKind.LOCKED_PERIOD, "category": None, "account_code": None,
        "message": advice, "xero_message": message, "retryable": False}


def _line(category: str, code: str) -> JournalLine:
    return JournalLine(category=category, account_code=code, amount=money("1"))


LINES = [_line("rental", "Rev1"), _line("sales", "REV1"), _line("rental", "rev1"),
         _line("cash", "1210")]


def test_a_code_is_traced_to_every_entry_using_it_whatever_its_case() -> None:
    assert categories_of("rev1", LINES) == ["rental", "sales"]
    assert categories_of("REV1", LINES) == ["rental", "sales"]
    assert categories_of("999", LINES) == []


def test_a_refused_code_quoted_by_xero_names_its_entries() -> None:
    lines = [_line("rental", "Rev1"), _line("sales", "Rev1"), _line("cash", "1210")]
    error = xero_error("Account code 'rEV1' is archived", lines)
    assert (error.kind, error.category, error.account_code) == (
        ErrorKind.ARCHIVED_ACCOUNT, "rental, sales", "Rev1")
    assert error.message == ("Account Numbers > rental, sales: account code 'Rev1' is"
                             " archived in Xero: use an active account.")


def test_a_drain_lingers_only_once_half_the_minute_is_spent() -> None:
    assert linger_s(1, 1) == 0.0
    assert linger_s(0, 1) == 60.0  # one call a minute: a minute between calls
    assert linger_s(0, 0) == 60.0


def test_journals_are_grouped_and_sent_fifty_at_most_per_call() -> None:
    assert group_by(["a1", "b1", "a2"], lambda s: s[0]) == {"a": ["a1", "a2"], "b": ["b1"]}
    assert [len(c) for c in chunks(list(range(120)), 50)] == [50, 50, 20]
    assert chunks([], 50) == []
