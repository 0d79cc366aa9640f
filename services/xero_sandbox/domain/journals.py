"""Xero's ManualJournal rules, with Xero's messages. Pure: no clock, no storage."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from services.xero_sandbox.domain.model import Account, JournalLine, Organisation
from services.xero_sandbox.domain.xerodate import parse_date
from shared.xero_rules import line_tax, refused_in_manual_journals

LINE_AMOUNT_TYPES = ("NoTax", "Exclusive", "Inclusive")
CREATE_STATUSES = ("DRAFT", "POSTED")
CENT = Decimal("0.01")


@dataclass
class Checked:
    """A submitted journal after Xero's rules: errors make it refused, warnings do not."""

    narration: str = ""
    date: dt.date | None = None
    status: str = "DRAFT"
    line_amount_types: str = "NoTax"
    lines: list[JournalLine] = field(default_factory=list)
    show_on_cash_basis: bool = True
    url: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _money(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite():
        return None
    # A JSON number loses trailing zeros (100.00 arrives as 100.0): Xero keeps money to
    # the cent, so an amount with no more places than that is held as cents.
    return amount.quantize(CENT) if amount == amount.quantize(CENT) else amount


def _fmt(amount: Decimal) -> str:
    return f"{amount.quantize(CENT):.2f}"


def check_journal(raw: Any, org: Organisation, today: dt.date, adviser: bool = False) -> Checked:
    """Applies Xero's rules to one submitted ManualJournal object, for a user who is an
    adviser or not (which lock dates bind them)."""
    out = Checked()
    if not isinstance(raw, dict):
        out.errors.append("A ManualJournal must be a JSON object")
        return out
    _check_header(raw, org, today, out, adviser)
    lines = raw.get("JournalLines")
    if lines is None:
        lines = []
    if not isinstance(lines, list):
        out.errors.append("JournalLines must be a list of journal lines")
        return out
    for index, line in enumerate(lines):
        _check_line(line, index, org, out)
    _check_totals(out)
    if out.ok and out.line_amount_types == "Inclusive":
        _as_exclusive(out)
    return out


def _as_exclusive(out: Checked) -> None:
    """help.xero.com "Add and post, or edit a manual journal": with amounts Tax Inclusive
    "the journal shows as tax exclusive when it's saved or posted": each line keeps its
    net amount and its tax."""
    for line in out.lines:
        line.line_amount -= line.tax_amount
    out.line_amount_types = "Exclusive"


def _check_header(
    raw: dict[str, Any], org: Organisation, today: dt.date, out: Checked, adviser: bool
) -> None:
    narration = raw.get("Narration")
    if not isinstance(narration, str) or not narration.strip():
        out.errors.append("Narration cannot be empty")
    else:
        out.narration = narration
    out.date = _journal_date(raw.get("Date"), today, out)
    status = raw.get("Status") or "DRAFT"
    if status not in CREATE_STATUSES:
        out.errors.append(f"'{status}' is not a valid status for a new manual journal")
    out.status = str(status)
    kind = raw.get("LineAmountTypes") or "NoTax"
    if kind not in LINE_AMOUNT_TYPES:
        out.errors.append(f"'{kind}' is not a valid value for LineAmountTypes")
    out.line_amount_types = str(kind)
    out.show_on_cash_basis = raw.get("ShowOnCashBasisReports", True) is not False
    url = raw.get("Url")
    out.url = url if isinstance(url, str) else None
    message = lock_message(org, out.date, adviser)
    if message:
        out.errors.append(message)


def lock_message(org: Organisation, day: dt.date | None, adviser: bool) -> str | None:
    """Xero's refusal of a date on or before the lock that binds the user, naming it (as
    Xero's message does: "The document date cannot be before the end of year lock date,
    currently set at ...", quoted in help.dext.com "How do Xero lock dates affect
    publishing")."""
    lock = org.lock_for(adviser)
    if day is None or lock is None or day > lock[1]:
        return None
    return (f"The document date cannot be before the {lock[0]} lock date, currently set at"
            f" {lock[1].isoformat()}")


def _journal_date(value: Any, today: dt.date, out: Checked) -> dt.date | None:
    if value in (None, ""):
        return today
    parsed = parse_date(value) if isinstance(value, str) else None
    if parsed is None:
        out.errors.append(f"The date '{value}' is not a valid date (use YYYY-MM-DD)")
    return parsed


def _check_line(line: Any, index: int, org: Organisation, out: Checked) -> None:
    if not isinstance(line, dict):
        out.errors.append(f"Journal line {index + 1} must be a JSON object")
        return
    amount = _money(line.get("LineAmount"))
    if amount is None:
        out.errors.append(f"Journal line {index + 1}: LineAmount must be a number")
        return
    code = str(line.get("AccountCode") or "").strip()
    account = org.account(code) if code else None
    if account is None:
        # Xero drops the line and carries on: the journal may still be accepted.
        out.warnings.append(
            f"Account code '{code}' has been removed as it does not match a recognised account."
        )
        return
    if account.status != "ACTIVE":
        out.errors.append(
            f"Account code '{account.code}' has been archived, or deleted. Each line item "
            "must reference a valid account."
        )
    elif account.type == "BANK" or refused_in_manual_journals(account.system_account):
        out.errors.append(f"Account code '{account.code}' is not a valid code for this document")
    tax_type = str(line.get("TaxType") or "NONE")
    if not _tax_allowed(org, tax_type, account):
        out.errors.append(
            f"The TaxType code '{tax_type}' cannot be used with account code '{account.code}'."
        )
    tracking = line.get("Tracking") or []
    if not isinstance(tracking, list) or len(tracking) > 2:
        out.errors.append(f"Journal line {index + 1}: at most 2 tracking categories may be given")
        tracking = []
    tracking = [t for t in tracking if isinstance(t, dict)]
    out.errors.extend(_tracking_errors(tracking, org))
    description = line.get("Description")
    out.lines.append(
        JournalLine(
            amount,
            account.code,
            account.account_id,
            description if isinstance(description, str) else "",
            tax_type,
            tracking,
            _tax(org, tax_type, amount, out.line_amount_types),
        )
    )


def _tax_allowed(org: Organisation, tax_type: str, account: Account) -> bool:
    """The tax rate exists, is active and may be used on the account's class (its
    CanApplyTo* flags: developer.xero.com api/accounting/taxrates)."""
    rate = org.tax_rates.get(tax_type)
    if rate is None:
        return tax_type == "NONE"
    return rate.status == "ACTIVE" and account.account_class in rate.applies_to


def _tax(org: Organisation, tax_type: str, amount: Decimal, line_amount_types: str) -> Decimal:
    rate = org.tax_rates.get(tax_type)
    if rate is None:
        return Decimal("0.00")
    return line_tax(amount, Decimal(rate.rate), line_amount_types)


def _tracking_errors(tracking: list[dict[str, Any]], org: Organisation) -> list[str]:
    """Tracking names a category and one of its options; both must exist and be active.
    Xero's words for a category are "There is no ACTIVE tracking category with the name
    'X'" (calcinai/xero-php#386, a validation error Xero returned); an option is refused
    in the same form."""
    errors = []
    for item in tracking:
        name = str(item.get("Name") or "")
        category = org.tracking_category(name)
        if category is None or category.status != "ACTIVE":
            errors.append(f"There is no ACTIVE tracking category with the name '{name}'")
            continue
        option_name = str(item.get("Option") or "")
        option = category.option(option_name)
        if option is None or option.status != "ACTIVE":
            errors.append(f"There is no ACTIVE tracking option with the name '{option_name}'"
                          f" in the tracking category '{category.name}'")
    return errors


def _check_totals(out: Checked) -> None:
    if len(out.lines) < 2:
        out.errors.append("A manual journal must have at least two journal lines")
        return
    # Exclusive amounts are net: Xero adds each line's tax, and the journal balances with
    # it; Inclusive amounts already hold their tax.
    with_tax = out.line_amount_types == "Exclusive"
    amounts = [ln.line_amount + (ln.tax_amount if with_tax else 0) for ln in out.lines]
    debits = sum((a for a in amounts if a > 0), Decimal(0))
    credits = sum((a for a in amounts if a < 0), Decimal(0))
    if debits + credits != 0:
        out.errors.append(
            f"The total debits ({_fmt(debits)}) must equal total credits ({_fmt(credits)})"
        )
