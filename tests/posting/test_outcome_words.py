"""Xero's refusal of a locked date names the lock date (services/posting/domain/outcome.py)."""

from decimal import Decimal

import pytest

from services.posting.domain.outcome import xero_error
from shared.contracts.events import ErrorKind, JournalLine

LINES = [JournalLine(category="cash", account_code="1210", amount=Decimal("1.00"))]


@pytest.mark.parametrize(("words", "date"), [
    ("The document date cannot be before the end of year lock date, currently set at "
     "31-Jul-2013", "31-Jul-2013"),
    ("The document date cannot be on or before the lock date (2026-11-18)", "2026-11-18"),
])
def test_the_lock_date_xero_names_is_in_the_message(words: str, date: str):
    error = xero_error(words, LINES)
    assert error.kind is ErrorKind.LOCKED_PERIOD
    assert date in error.message and error.xero_message == words
