"""The organisation's chart of accounts and lock dates, and the check of a journal
against them: every problem is reported at once, each naming the Account Numbers
category and code, what to change, and (for refused accounts) a clearing account to use.
"""

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from shared.contracts.events import ErrorKind, Journal, JournalLine, PostingError

# Xero refuses these in manual journals (its own ledgers and bank accounts).
_CLEARING_WORDS = ("clearing", "undeposited", "suspense")
_STOP_WORDS = {"and", "the", "of", "on", "account", "accounts", "card", "cards"}


@dataclass(frozen=True)
class Account:
    code: str
    name: str
    type: str
    status: str = "ACTIVE"
    system_account: str | None = None
    tax_type: str | None = None

    @property
    def usable(self) -> bool:
        return self.status == "ACTIVE" and self.type != "BANK" and not self.system_account


@dataclass(frozen=True)
class Chart:
    accounts: Mapping[str, Account] = field(default_factory=dict)
    period_lock_date: date | None = None
    end_of_year_lock_date: date | None = None
    organisation_name: str = ""

    def account(self, code: str) -> Account | None:
        return self.accounts.get(code.upper())

    @property
    def lock_date(self) -> date | None:
        """The lock that binds every user, advisers too: the end of year lock date. The
        period lock date binds every user but an adviser (help.xero.com "Set and work with
        lock dates": "for all user roles, or all user roles except the Adviser user
        role"), so whether it refuses a day is Xero's to say for the connected user."""
        return self.end_of_year_lock_date


def chart_from_xero(
    accounts: Iterable[Mapping[str, Any]], organisation: Mapping[str, Any] | None
) -> Chart:
    """Builds a chart from Xero's `Accounts` and `Organisations[0]` JSON."""
    by_code: dict[str, Account] = {}
    for raw in accounts:
        code = raw.get("Code")
        if not code:
            continue  # Xero's bank accounts may have no code: nothing can point at them
        by_code[str(code).upper()] = Account(
            code=str(code),
            name=str(raw.get("Name") or ""),
            type=str(raw.get("Type") or ""),
            status=str(raw.get("Status") or "ACTIVE"),
            system_account=raw.get("SystemAccount") or None,
            tax_type=raw.get("TaxType") or None,
        )
    org = organisation or {}
    return Chart(
        accounts=by_code,
        period_lock_date=parse_xero_date(org.get("PeriodLockDate")),
        end_of_year_lock_date=parse_xero_date(org.get("EndOfYearLockDate")),
        organisation_name=str(org.get("Name") or ""),
    )


_MS_DATE = re.compile(r"^/Date\((-?\d+)(?:([+-])(\d{2})(\d{2}))?\)/$")


def parse_xero_date(value: Any) -> date | None:
    """Xero writes dates as `2026-11-24`, `2026-11-24T00:00:00` or `/Date(ms+hhmm)/`: the
    instant in milliseconds and the organisation's zone, which is applied before taking
    the date: `/Date(1419937200000+1300)/` is 2014-12-31 (developer.xero.com "Dates and
    timestamps explained")."""
    if not value:
        return None
    text = str(value).strip()
    match = _MS_DATE.match(text)
    if match:
        millis, sign, hours, minutes = match.groups()
        offset = timedelta(hours=int(hours or 0), minutes=int(minutes or 0))
        instant = datetime.fromtimestamp(int(millis) / 1000, UTC)
        return (instant + offset if sign != "-" else instant - offset).date()
    return date.fromisoformat(text[:10])


def check_journal(journal: Journal, chart: Chart) -> list[PostingError]:
    """Every problem of the journal against this organisation, in line order."""
    errors: list[PostingError] = []
    for line in journal.lines:
        problem = check_line(line, chart)
        if problem is not None:
            errors.append(problem)
    unbalanced = check_balance(journal.lines)
    if unbalanced is not None:
        errors.append(unbalanced)
    locked = check_lock_date(journal.date, chart)
    if locked is not None:
        errors.append(locked)
    return errors


def check_line(line: JournalLine, chart: Chart) -> PostingError | None:
    account = chart.account(line.account_code)
    where = f"Account Numbers > {line.category}"
    if account is None:
        return PostingError(
            kind=ErrorKind.UNKNOWN_ACCOUNT,
            category=line.category,
            account_code=line.account_code,
            message=(
                f"{where}: account code '{line.account_code}' does not exist in Xero"
                f"{_in_org(chart)}. Change it to an existing account code"
                f"{_similar(line.account_code, line.category, chart)}, or create the account"
                " in Xero's chart of accounts."
            ),
        )
    if account.status != "ACTIVE":
        return PostingError(
            kind=ErrorKind.ARCHIVED_ACCOUNT,
            category=line.category,
            account_code=line.account_code,
            message=(
                f"{where}: account {account.code} \"{account.name}\" is {account.status.lower()}"
                f" in Xero{_in_org(chart)}. Change it to an active account"
                f"{_similar(line.account_code, line.category, chart)}, or restore the account"
                " in Xero."
            ),
        )
    if account.type == "BANK":
        return _refused(line, account, chart, ErrorKind.BANK_ACCOUNT, "a bank account")
    if account.system_account:
        label = f"Xero's system account ({account.system_account.lower()})"
        return _refused(line, account, chart, ErrorKind.SYSTEM_ACCOUNT, label)
    return None


def _refused(
    line: JournalLine, account: Account, chart: Chart, kind: ErrorKind, what: str
) -> PostingError:
    suggestion = suggest_clearing_account(line.category, chart)
    instead = (
        f" Use a clearing account instead, for example {suggestion.code} \"{suggestion.name}\"."
        if suggestion
        else " Create a clearing account (type Current Asset) in Xero and use its code instead."
    )
    return PostingError(
        kind=kind,
        category=line.category,
        account_code=line.account_code,
        message=(
            f"Account Numbers > {line.category}: account {account.code} \"{account.name}\" is"
            f" {what}; Xero does not accept it in manual journals.{instead}"
        ),
    )


def suggest_clearing_account(category: str, chart: Chart) -> Account | None:
    """The usable current-asset account whose name best matches the category's words;
    undeposited-funds and clearing accounts first when nothing matches better."""
    candidates = [a for a in chart.accounts.values() if a.usable and a.type == "CURRENT"]
    if not candidates:
        return None
    wanted = _words(category)

    def score(account: Account) -> tuple[int, int, int]:
        name = account.name.lower()
        shared = len(wanted & _words(account.name))
        clearing = 2 if "undeposited" in name else int(any(w in name for w in _CLEARING_WORDS))
        return (shared, clearing, -candidates.index(account))

    return max(candidates, key=score)


def _words(text: str) -> set[str]:
    cleaned = "".join(ch.lower() if ch.isalnum() else " " for ch in text)
    words = {w for w in cleaned.split() if w not in _STOP_WORDS}
    # Plurals and spelling variants used by POS categories (checks/cheques, cards).
    return words | {w.rstrip("s") for w in words}


def _similar(code: str, category: str, chart: Chart) -> str:
    usable = [a for a in chart.accounts.values() if a.usable]
    by_code = difflib.get_close_matches(code.upper(), [a.code.upper() for a in usable], n=1)
    by_name = difflib.get_close_matches(
        category.lower(), [a.name.lower() for a in usable], n=1, cutoff=0.5
    )
    picks: list[Account] = []
    for account in usable:
        if (by_name and account.name.lower() == by_name[0]) or (
            by_code and account.code.upper() == by_code[0]
        ):
            picks.append(account)
    if not picks:
        return ""
    named = ", ".join(f"{a.code} \"{a.name}\"" for a in picks[:2])
    return f" (perhaps {named})"


def _in_org(chart: Chart) -> str:
    return f" for {chart.organisation_name}" if chart.organisation_name else ""


def check_balance(lines: Iterable[JournalLine]) -> PostingError | None:
    debits = sum((line.amount for line in lines if line.amount > 0), Decimal("0"))
    credits = sum((-line.amount for line in lines if line.amount < 0), Decimal("0"))
    if debits == credits:
        return None
    return PostingError(
        kind=ErrorKind.UNBALANCED,
        message=(
            f"The day's journal does not balance: debits {debits:.2f}, credits {credits:.2f}"
            f" (difference {debits - credits:.2f}). Check that every totals figure has an"
            " account code in Account Numbers setup, then reprint the day."
        ),
    )


def check_lock_date(day: date, chart: Chart) -> PostingError | None:
    """Refuses a day the end of year lock date closes to every user; a day only the
    period lock date closes is left to Xero (an adviser may post it)."""
    lock = chart.lock_date
    if lock is None or day > lock:
        return None
    return PostingError(
        kind=ErrorKind.LOCKED_PERIOD,
        message=(
            f"{day.isoformat()} is on or before the end of year lock date in Xero"
            f"{_in_org(chart)} ({lock.isoformat()}), which binds every user, advisers too."
            " Ask your accountant to move the end of year lock date in Xero (Settings >"
            " Advanced > Financial settings), then post the day again."
        ),
    )
