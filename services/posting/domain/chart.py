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

from shared.contracts.accounts import expected_classes
from shared.contracts.events import ErrorKind, Journal, JournalLine, PostingError
from shared.xero_rules import refused_in_manual_journals

_CLEARING_WORDS = ("clearing", "undeposited", "suspense")
_STOP_WORDS = {"and", "the", "of", "on", "account", "accounts", "card", "cards"}
# Xero's account types by class, for an account whose `Class` Xero did not send
# (AccountType and AccountClassType in Xero's accounting OpenAPI spec).
_CLASS_OF_TYPE = {
    **dict.fromkeys(("BANK", "CURRENT", "FIXED", "INVENTORY", "NONCURRENT", "PREPAYMENT"),
                    "ASSET"),
    **dict.fromkeys(("CURRLIAB", "LIABILITY", "TERMLIAB", "PAYG"), "LIABILITY"),
    "EQUITY": "EQUITY",
    **dict.fromkeys(("DEPRECIATN", "DIRECTCOSTS", "EXPENSE", "OVERHEADS"), "EXPENSE"),
    **dict.fromkeys(("OTHERINCOME", "REVENUE", "SALES"), "REVENUE"),
}
_CLASS_WORDS = {"ASSET": "an asset", "LIABILITY": "a liability", "EQUITY": "an equity",
                "EXPENSE": "an expense", "REVENUE": "a revenue"}


@dataclass(frozen=True)
class Account:
    code: str
    name: str
    type: str
    status: str = "ACTIVE"
    system_account: str | None = None
    tax_type: str | None = None
    account_class: str = ""

    @property
    def kind(self) -> str:
        """The account's class (ASSET, LIABILITY, EQUITY, EXPENSE, REVENUE)."""
        return self.account_class or _CLASS_OF_TYPE.get(self.type, "")

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
    category_id: str = ""

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
            str(item.get("TrackingCategoryID") or ""),
        )
        for item in raw
    }


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
                          if r.status == "ACTIVE" and account.kind in r.applies_to)
        problem = f"tax rate {line.tax_type} does not exist in Xero{_in_org(chart)}" + (
            f" (for account {account.code}: {known})" if known else "")
    elif rate.status != "ACTIVE":
        problem = f"tax rate {rate.tax_type} \"{rate.name}\" is {rate.status.lower()} in Xero"
    elif account.kind not in rate.applies_to:
        problem = (f"tax rate {rate.tax_type} \"{rate.name}\" cannot be used on account"
                   f" {account.code} \"{account.name}\" ({account.kind.lower()})")
    else:
        return None
    return PostingError(kind=ErrorKind.TAX_TYPE, category=line.category,
                        account_code=line.account_code,
                        message=f"{where}: {problem}. Choose an active tax rate that Xero"
                        " allows on that account, or change the account.")


def missing_options(journals: Iterable[Journal], chart: Chart) -> list[tuple[str, str]]:
    """(category id, option name) of each tracking option the journals name that their
    active category lacks: what the system may create in Xero when allowed to. An archived
    option is the accountant's to restore, not to create again."""
    if chart.tracking is None:
        return []
    missing: list[tuple[str, str]] = []
    for journal in journals:
        for line in journal.lines:
            for item in line.tracking:
                category = chart.tracking.get(item.name.strip().lower())
                wanted = (category.category_id, item.option) if category else None
                if category is not None and category.status == "ACTIVE" \
                        and category.option_status(item.option) is None \
                        and category.category_id and wanted not in missing:
                    missing.append((category.category_id, item.option))
    return missing


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
    if account is not None and account.status == "ACTIVE":
        if account.type == "BANK":
            return _refused(line, account, chart, ErrorKind.BANK_ACCOUNT, "a bank account")
        if refused_in_manual_journals(account.system_account):
            assert account.system_account is not None
            label = f"Xero's system account ({account.system_account.lower()})"
            return _refused(line, account, chart, ErrorKind.SYSTEM_ACCOUNT, label)
        return None
    # Only a refused line looks for similar accounts: the search compares names across the
    # whole chart, and running it for every line of every journal cost posting ten times
    # its CPU (`python -m bench --only throughput`, 2026-12-04).
    where = f"Account Numbers > {line.category}"
    instead = _similar(line.account_code, line.category, chart)
    if account is None:
        return _about_line(line, ErrorKind.UNKNOWN_ACCOUNT, (
            f"{where}: account code '{line.account_code}' does not exist in Xero"
            f"{_in_org(chart)}. Change it to an existing account code{instead}, or create"
            " the account in Xero's chart of accounts."))
    if account.status == "DELETED":
        # Xero restores archived accounts, never deleted ones (help.xero.com
        # Settings_ChartofAccountsArchive: "you can't restore a deleted account").
        return _about_line(line, ErrorKind.ARCHIVED_ACCOUNT, (
            f"{where}: account {account.code} \"{account.name}\" was deleted in Xero"
            f"{_in_org(chart)}, and Xero cannot restore a deleted account. Create a new"
            f" account in Xero's chart of accounts and use its code, or change it to an"
            f" active account{instead}."))
    return _about_line(line, ErrorKind.ARCHIVED_ACCOUNT, (
        f"{where}: account {account.code} \"{account.name}\" is {account.status.lower()}"
        f" in Xero{_in_org(chart)}. Restore it in Xero (Chart of accounts, Archive tab),"
        f" or change it to an active account{instead}."))


def _about_line(line: JournalLine, kind: ErrorKind, message: str) -> PostingError:
    return PostingError(kind=kind, category=line.category, account_code=line.account_code,
                        message=message)


def _refused(
    line: JournalLine, account: Account, chart: Chart, kind: ErrorKind, what: str
) -> PostingError:
    wanted = expected_classes(line.category)
    if wanted is not None and "ASSET" not in wanted:
        # Revenue, tax, deposits: a clearing account is no place for them either.
        picks = similar_accounts(line.account_code, line.category, chart)
        instead = (" Use another account instead" + _similar(line.account_code, line.category,
                                                             chart) + "." if picks else
                   " Create an account of the right kind in Xero and use its code instead.")
    elif suggestion := suggest_clearing_account(line.category, chart):
        instead = (f" Use a clearing account instead, for example {suggestion.code}"
                   f" \"{suggestion.name}\".")
    else:
        instead = (" Create a clearing account (type Current Asset) in Xero and use its code"
                   " instead.")
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
    picks = similar_accounts(code, category, chart)
    if not picks:
        return ""
    named = ", ".join(f"{a.code} \"{a.name}\"" for a in picks)
    return f" (perhaps {named})"


def _named(chart: Chart) -> str:
    return f" \"{chart.organisation_name}\"" if chart.organisation_name else ""


def similar_accounts(code: str, category: str, chart: Chart, limit: int = 2
                     ) -> list[Account]:
    """Usable accounts of the class the entry posts to (and of an archived or deleted
    account's own type, when some fit), most alike in name first: an archived rental
    revenue account gets revenue accounts, never a tax liability."""
    wanted = expected_classes(category)
    # An archived or deleted account is the one the manager meant: its like is wanted. A
    # bank or system account was the wrong kind: the entry's own words are the guide.
    refused = chart.account(code)
    if refused is not None and refused.status == "ACTIVE":
        refused = None
    usable = [a for a in chart.accounts.values()
              if a.usable and (wanted is None or a.kind in wanted)]
    if refused is not None and (same := [a for a in usable if a.type == refused.type]):
        usable = same
    like = refused.name if refused is not None else category.replace("-", " ").replace("/", " ")

    def score(account: Account) -> tuple[int, float]:
        shared = len(_words(like) & _words(account.name))
        return shared, difflib.SequenceMatcher(None, like.lower(), account.name.lower()).ratio()

    ranked = sorted(usable, key=score, reverse=True)
    return [a for a in ranked if score(a) > (0, 0.45)][:limit]


def unusual_account(line: JournalLine, chart: Chart) -> PostingError | None:
    """An account Xero accepts but of a class the entry does not post to (a warning when
    a setup is checked: e.g. revenue posted to a liability)."""
    account = chart.account(line.account_code)
    wanted = expected_classes(line.category)
    if account is None or not account.usable or wanted is None or account.kind in wanted:
        return None
    needed = " or ".join(_CLASS_WORDS.get(k, k.lower()) for k in sorted(wanted))
    return PostingError(
        kind=ErrorKind.VALIDATION,
        category=line.category,
        account_code=line.account_code,
        message=(
            f"Account Numbers > {line.category}: account {account.code} \"{account.name}\" is"
            f" {_CLASS_WORDS.get(account.kind, account.kind.lower())} account; this entry"
            f" usually posts to {needed} account"
            f"{_similar(line.account_code, line.category, chart)}. Xero will accept it."
        ),
    )


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
