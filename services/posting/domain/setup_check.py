"""A store's Account Numbers setup checked against its organisation, with the very rules
a journal is checked by before it is sent (`chart.py`): whatever makes a day fail there is
an error here, so a setup is never "ready" while a day of it could only fail.

Each entry becomes a line of a journal of zero amounts, checked with `check_journal`;
what belongs to a day rather than to the setup (its balance, its date against the lock
dates) is left out. An account Xero accepts but whose class the entry does not post to is
a warning.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from services.posting.domain.chart import Chart, check_journal, unusual_account
from shared.contracts.events import ErrorKind, Journal, JournalLine, PostingError, Tracking

# Properties of one day, not of the setup.
_OF_A_DAY = frozenset({ErrorKind.UNBALANCED, ErrorKind.LOCKED_PERIOD})
_NO_AMOUNT = Decimal("0.00")


class Severity(StrEnum):
    ERROR = "error"  # a day posting to it fails
    WARNING = "warning"  # Xero accepts it, but it is unusual for the entry


@dataclass(frozen=True)
class SetupEntry:
    category: str
    account_code: str
    tax_type: str | None = None  # tax-coded stores: the rate its lines will carry


@dataclass(frozen=True)
class Finding:
    severity: Severity
    problem: PostingError


def check_setup(entries: Sequence[SetupEntry], tracking: Sequence[Tracking], chart: Chart,
                today: date, currency: str | None = None) -> list[Finding]:
    """Every problem of every entry at once, errors first, each naming its entry."""
    if not entries:
        return []
    lines = [JournalLine(category=e.category, account_code=e.account_code, amount=_NO_AMOUNT,
                         tax_type=e.tax_type, tracking=list(tracking)) for e in entries]
    # A journal has at least two lines: a one-entry setup is checked as two of it.
    journal = Journal(narration="setup check", reference="setup check", date=today,
                      lines=lines if len(lines) > 1 else lines * 2, currency=currency)
    errors = _unique(e for e in check_journal(journal, chart) if e.kind not in _OF_A_DAY)
    refused = {(e.category, e.account_code) for e in errors}
    warnings = [w for line in lines
                if (line.category, line.account_code) not in refused
                and (w := unusual_account(line, chart)) is not None]
    return ([Finding(Severity.ERROR, e) for e in errors]
            + [Finding(Severity.WARNING, w) for w in warnings])


def _unique(errors: Iterable[PostingError]) -> list[PostingError]:
    seen: list[PostingError] = []
    for error in errors:
        if error not in seen:
            seen.append(error)
    return seen

