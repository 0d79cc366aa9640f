"""The organisation's chart of accounts and lock dates, and the check of a journal
against them: every problem is reported at once, each naming the Account Numbers
category and code, what to change, and (for refused accounts) a clearing account to use.
"""

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from shared.contracts.events import ErrorKind, Journal, JournalLine, PostingError
from shared.xero_rules import refused_in_manual_journals

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
    account_class: str = ""  # Xero's Class: ASSET, EQUITY, EXPENSE, LIABILITY, REVENUE

    @property
    def usable(self) -> bool:
        return self.status == "ACTIVE" and self.type != "BANK" and \
            not refused_in_manual_journals(self.system_account)


@dataclass(frozen=True)
class TaxRate:
    """One of the organisation's `/TaxRates`: its rate and the account classes it may be
    used on (the `CanApplyTo…` flags, developer.xero.com api/accounting/taxrates)."""

    tax_type: str
    name: str
    rate: Decimal  # percent
    status: str = "ACTIVE"
    applies_to: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TrackingCategory:
    name: str
    status: str = "ACTIVE"
    options: Mapping[str, str] = field(default_factory=dict)  # option name -> status

    def option_status(self, name: str) -> str | None:
        wanted = name.strip().lower()
        return next((st for opt, st in self.options.items() if opt.lower() == wanted), None)


@dataclass(frozen=True)
class Chart:
    accounts: Mapping[str, Account] = field(default_factory=dict)
    period_lock_date: date | None = None
    end_of_year_lock_date: date | None = None
    organisation_name: str = ""
    base_currency: str | None = None
    # Read only for organisations whose journals carry tax types or tracking (None: not read).
    tax_rates: Mapping[str, TaxRate] | None = None
    tracking: Mapping[str, TrackingCategory] | None = None  # by lower-case name

    @property
    def has_settings(self) -> bool:
        return self.tax_rates is not None and self.tracking is not None

    def account(self, code: str) -> Account | None:
        return self.accounts.get(code.upper())

    @property
    def lock_date(self) -> date | None:
        dates = [d for d in (self.period_lock_date, self.end_of_year_lock_date) if d]
        return max(dates) if dates else None


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
            account_class=str(raw.get("Class") or ""),
        )
    org = organisation or {}
    return Chart(
        accounts=by_code,
        period_lock_date=parse_xero_date(org.get("PeriodLockDate")),
        end_of_year_lock_date=parse_xero_date(org.get("EndOfYearLockDate")),
        organisation_name=str(org.get("Name") or ""),
        base_currency=org.get("BaseCurrency") or None,
        tax_rates=_tax_rates(org.get(TAX_RATES_KEY)),
        tracking=_tracking(org.get(TRACKING_KEY)),
    )


# The organisation's `/TaxRates` and `/TrackingCategories` are kept with its
# `/Organisation` answer, under these keys.
TAX_RATES_KEY = "TaxRates"
TRACKING_KEY = "TrackingCategories"
_CAN_APPLY_TO = {"CanApplyToAssets": "ASSET", "CanApplyToEquity": "EQUITY",
                 "CanApplyToExpenses": "EXPENSE", "CanApplyToLiabilities": "LIABILITY",
                 "CanApplyToRevenue": "REVENUE"}


def _tax_rates(raw: Any) -> dict[str, TaxRate] | None:
    if raw is None:
        return None
    rates = {}
    for item in raw:
        rate = item.get("EffectiveRate", item.get("DisplayTaxRate")) or 0
        rates[str(item.get("TaxType"))] = TaxRate(
            str(item.get("TaxType")), str(item.get("Name") or ""), Decimal(str(rate)),
            str(item.get("Status") or "ACTIVE"),
            frozenset(cls for flag, cls in _CAN_APPLY_TO.items() if item.get(flag)),
        )
    return rates


def _tracking(raw: Any) -> dict[str, TrackingCategory] | None:
    if raw is None:
        return None
    return {
        str(item.get("Name") or "").lower(): TrackingCategory(
            str(item.get("Name") or ""), str(item.get("Status") or "ACTIVE"),
            {str(o.get("Name")): str(o.get("Status") or "ACTIVE")
             for o in item.get("Options") or []},
        )
        for item in raw
    }


def parse_xero_date(value: Any) -> date | None:
    """Xero writes dates as `2026-11-24`, `2026-11-24T00:00:00` or `/Date(1764000000000+0000)/`."""
    if not value:
        return None
    text = str(value)
    if text.startswith("/Date("):
        from datetime import UTC, datetime

        millis = int(text[6:].split(")")[0].split("+")[0].split("-")[0])
        return datetime.fromtimestamp(millis / 1000, UTC).date()
    return date.fromisoformat(text[:10])


def check_journal(journal: Journal, chart: Chart) -> list[PostingError]:
    """Every problem of the journal against this organisation, in line order."""
    from services.posting.domain.tax import check_tax

    errors: list[PostingError] = []
    _add(errors, check_currency(journal.currency, chart))
    for line in journal.lines:
        problem = check_line(line, chart)
        _add(errors, problem)
        if problem is None:
            _add(errors, check_tax_type(line, chart))
        for tracking_problem in check_tracking(line, chart):
            _add(errors, tracking_problem)
    # A tax-coded journal balances with the tax Xero adds: check_tax bounds what is left.
    _add(errors, check_tax(journal, chart) if journal.tax else check_balance(journal.lines))
    _add(errors, check_lock_date(journal.date, chart))
    return errors


def _add(errors: list[PostingError], problem: PostingError | None) -> None:
    # Tracking is the same on every line: each problem is said once.
    if problem is not None and problem not in errors:
        errors.append(problem)


def check_currency(currency: str | None, chart: Chart) -> PostingError | None:
    """A manual journal has no currency field: Xero books its amounts in the
    organisation's BaseCurrency (developer.xero.com api/accounting/manualjournals;
    `BaseCurrency` of `GET /Organisation`). A store in another currency would post wrong
    figures with no error from Xero."""
    base = chart.base_currency
    if not currency or not base or currency == base:
        return None
    return PostingError(
        kind=ErrorKind.CURRENCY,
        message=(
            f"The store's currency is {currency} (Account Numbers setup) but the Xero"
            f" organisation{_named(chart)} keeps its books in {base}:"
            f" Xero would book these {currency} amounts as {base}. Set the store's currency"
            f" to {base} if the POS reports {base}, or connect the store to the organisation"
            f" that keeps its books in {currency}."
        ),
    )


def check_tax_type(line: JournalLine, chart: Chart) -> PostingError | None:
    """The line's tax rate exists in the organisation, is active, and may be used on the
    account's class (its `CanApplyTo…` flag: developer.xero.com api/accounting/taxrates);
    Xero answers "The TaxType code 'T' cannot be used with account code 'X'." otherwise."""
    account = chart.account(line.account_code)
    if not line.tax_type or line.tax_type == "NONE" or chart.tax_rates is None \
            or account is None:
        return None
    rate = chart.tax_rates.get(line.tax_type)
    where = f"Account Numbers > tax rates > {line.category}"
    if rate is None:
        known = ", ".join(f"{r.tax_type} \"{r.name}\"" for r in chart.tax_rates.values()
                          if r.status == "ACTIVE" and account.account_class in r.applies_to)
        problem = f"tax rate {line.tax_type} does not exist in Xero{_in_org(chart)}" + (
            f" (for account {account.code}: {known})" if known else "")
    elif rate.status != "ACTIVE":
        problem = f"tax rate {rate.tax_type} \"{rate.name}\" is {rate.status.lower()} in Xero"
    elif account.account_class not in rate.applies_to:
        problem = (f"tax rate {rate.tax_type} \"{rate.name}\" cannot be used on account"
                   f" {account.code} \"{account.name}\" ({account.account_class.lower()})")
    else:
        return None
    return PostingError(kind=ErrorKind.TAX_TYPE, category=line.category,
                        account_code=line.account_code,
                        message=f"{where}: {problem}. Choose an active tax rate that Xero"
                        " allows on that account, or change the account.")


def check_tracking(line: JournalLine, chart: Chart) -> list[PostingError]:
    """Each tracking category and option named on the line exists in the organisation and
    is active (`GET /TrackingCategories`); Xero refuses the journal otherwise."""
    if chart.tracking is None:
        return []
    problems = []
    for item in line.tracking:
        category = chart.tracking.get(item.name.strip().lower())
        if category is None or category.status != "ACTIVE":
            state = "does not exist" if category is None else f"is {category.status.lower()}"
            problems.append(PostingError(kind=ErrorKind.TRACKING, message=(
                f"Account Numbers > tracking: the tracking category \"{item.name}\" {state}"
                f" in Xero{_in_org(chart)}. Create it in Xero (Accounting > Advanced >"
                " Tracking categories), or change the tracking in Account Numbers setup.")))
            continue
        status = category.option_status(item.option)
        if status != "ACTIVE":
            state = "does not exist" if status is None else f"is {status.lower()}"
            problems.append(PostingError(kind=ErrorKind.TRACKING, message=(
                f"Account Numbers > tracking: the option \"{item.option}\" of tracking"
                f" category \"{category.name}\" {state} in Xero{_in_org(chart)}. Create it"
                f" in Xero (Accounting > Advanced > Tracking categories > {category.name} >"
                " Add option), or change the tracking option in Account Numbers setup.")))
    return problems


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
    if refused_in_manual_journals(account.system_account):
        assert account.system_account is not None
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


def _named(chart: Chart) -> str:
    return f" \"{chart.organisation_name}\"" if chart.organisation_name else ""


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
    lock = chart.lock_date
    if lock is None or day > lock:
        return None
    return PostingError(
        kind=ErrorKind.LOCKED_PERIOD,
        message=(
            f"{day.isoformat()} is inside a period locked in Xero{_in_org(chart)} (lock date"
            f" {lock.isoformat()}). Ask your accountant to move the lock date in Xero"
            " (Settings > Advanced > Financial settings), then post the day again."
        ),
    )
