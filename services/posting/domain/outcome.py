"""What Xero said about each journal of a batch, turned into errors a manager can act on."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from shared.contracts.events import ErrorKind, JournalLine, PostingError


@dataclass(frozen=True)
class JournalResult:
    """One journal of a `PUT /ManualJournals?summarizeErrors=false` answer."""

    narration: str
    journal_id: UUID | None
    status: str
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    # Journals Xero accepted keep their Xero status (POSTED, DRAFT, VOIDED ...).
    journal_status: str = ""

    @property
    def created(self) -> bool:
        return self.journal_id is not None and self.status != "ERROR" and not self.errors


def result_from_xero(raw: Mapping[str, Any]) -> JournalResult:
    journal_id = raw.get("ManualJournalID")
    valid_id = _uuid(journal_id)
    return JournalResult(
        narration=str(raw.get("Narration") or ""),
        journal_id=valid_id,
        status=str(raw.get("StatusAttributeString") or ("OK" if valid_id else "ERROR")),
        errors=tuple(_messages(raw.get("ValidationErrors"))),
        warnings=tuple(_messages(raw.get("Warnings"))),
        journal_status=str(raw.get("Status") or ""),
    )


def _uuid(value: Any) -> UUID | None:
    if not value:
        return None
    try:
        parsed = UUID(str(value))
    except ValueError:
        return None
    # Xero answers a journal it did not create with the nil id.
    return None if parsed.int == 0 else parsed


def _messages(items: Any) -> list[str]:
    return [str(item.get("Message")) for item in items or [] if item.get("Message")]


_UNKNOWN = re.compile(r"Account code '([^']*)' is not a valid code", re.I)
_DROPPED = re.compile(r"Account code '([^']*)' has been removed", re.I)
_TAX = re.compile(r"TaxType code '([^']*)' cannot be used with account code '([^']*)'", re.I)
_UNBALANCED = re.compile(r"total debits .* must equal total credits", re.I)
_LOCKED = re.compile(r"lock date|locked period|period is locked", re.I)
_PERIOD_LOCK = re.compile(r"period lock", re.I)
_YEAR_LOCK = re.compile(r"end of year lock|year.end lock", re.I)
_ARCHIVED = re.compile(r"archived|deleted", re.I)
_BANK = re.compile(r"bank account", re.I)
_SYSTEM = re.compile(r"system account|receivable|payable|retained earnings", re.I)
_QUOTED = re.compile(r"'([^']*)'")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}[- ][A-Z][a-z]{2}[- ]\d{4}")


def judge(result: JournalResult, lines: Sequence[JournalLine]) -> list[PostingError]:
    """No errors: the journal is in Xero as sent. A dropped line is a failure."""
    errors = [xero_error(message, lines) for message in result.errors]
    errors += [xero_error(m, lines) for m in result.warnings if _DROPPED.search(m)]
    if not errors and result.journal_id is None:
        errors.append(
            PostingError(
                kind=ErrorKind.VALIDATION,
                message="Xero did not create the journal and gave no reason; post the day again.",
                retryable=True,
            )
        )
    return errors


def xero_error(message: str, lines: Sequence[JournalLine]) -> PostingError:
    """One Xero message as an error naming the Account Numbers entry to change."""
    if match := _DROPPED.search(message):
        code = match.group(1)
        return _about(
            ErrorKind.LINE_DROPPED, code, lines, message,
            "Xero dropped this line because the code is not a recognised account, so the"
            " journal in Xero is incomplete: change the code to an existing account, then"
            " post the day again (the incomplete journal is voided then).",
        )
    if match := _UNKNOWN.search(message):
        return _about(
            ErrorKind.UNKNOWN_ACCOUNT, match.group(1), lines, message,
            "is not an account code Xero accepts here: change it to an existing account code.",
        )
    if match := _TAX.search(message):
        tax, code = match.group(1), match.group(2)
        return _about(
            ErrorKind.TAX_TYPE, code, lines, message,
            f"tax type '{tax}' cannot be used with this account in Xero: change the entry's"
            " tax type (NONE, or one Xero allows for the account) or its account code.",
        )
    if _UNBALANCED.search(message):
        return PostingError(
            kind=ErrorKind.UNBALANCED,
            message="The day's journal does not balance in Xero: check that every totals"
            " figure has an account code in Account Numbers setup, then reprint the day.",
            xero_message=message,
        )
    if _LOCKED.search(message):
        return locked_error(message)
    code = _code_in(message, lines)
    for pattern, kind, advice in (
        (_ARCHIVED, ErrorKind.ARCHIVED_ACCOUNT, "is archived in Xero: use an active account."),
        (_BANK, ErrorKind.BANK_ACCOUNT, "is a bank account: use a clearing account instead."),
        (_SYSTEM, ErrorKind.SYSTEM_ACCOUNT, "is a Xero system account: use a clearing account."),
    ):
        if code and pattern.search(message):
            return _about(kind, code, lines, message, advice)
    if code:
        return _about(ErrorKind.VALIDATION, code, lines, message, "was refused by Xero.")
    return PostingError(
        kind=ErrorKind.VALIDATION,
        message=f"Xero refused the day's journal: {message}",
        xero_message=message,
    )


def locked_error(message: str) -> PostingError:
    """Xero refused the day's date for a lock date: which one, and who can act on it."""
    if _PERIOD_LOCK.search(message):
        advice = (
            "The day is on or before the period lock date in Xero, which binds every user"
            " but an adviser: connect the store as a Xero user with the Adviser role, or ask"
            " your accountant to move the period lock date, then post the day again."
        )
    elif _YEAR_LOCK.search(message):
        advice = (
            "The day is on or before the end of year lock date in Xero, which binds every"
            " user, advisers too: ask your accountant to move it, then post the day again."
        )
    else:
        advice = ("The day is inside a period locked in Xero: ask your accountant to move"
                  " the lock date, then post the day again.")
    # Xero names the date in its own format, e.g. "The document date cannot be before
    # the end of year lock date, currently set at 31-Jul-2013" (waynerobinson/xeroizer#92).
    date = _DATE.search(message)
    lock = f" Lock date: {date.group(0)}." if date else ""
    return PostingError(kind=ErrorKind.LOCKED_PERIOD, message=f"{advice}{lock}",
                        xero_message=message)


def _about(
    kind: ErrorKind, code: str, lines: Sequence[JournalLine], message: str, advice: str
) -> PostingError:
    categories = categories_of(code, lines)
    category = ", ".join(categories) if categories else None
    where = f"Account Numbers > {category}" if category else "Account Numbers setup"
    return PostingError(
        kind=kind,
        category=category,
        account_code=code,
        message=f"{where}: account code '{code}' {advice}",
        xero_message=message,
    )


def categories_of(code: str, lines: Sequence[JournalLine]) -> list[str]:
    seen: list[str] = []
    for line in lines:
        if line.account_code.upper() == code.upper() and line.category not in seen:
            seen.append(line.category)
    return seen


def _code_in(message: str, lines: Sequence[JournalLine]) -> str | None:
    codes = {line.account_code.upper(): line.account_code for line in lines}
    for quoted in _QUOTED.findall(message):
        if quoted.upper() in codes:
            return codes[quoted.upper()]
    return None


def is_account_error(error: PostingError) -> bool:
    """Errors that mean our cached chart of accounts may be out of date."""
    return error.kind in {
        ErrorKind.UNKNOWN_ACCOUNT,
        ErrorKind.ARCHIVED_ACCOUNT,
        ErrorKind.BANK_ACCOUNT,
        ErrorKind.SYSTEM_ACCOUNT,
        ErrorKind.TAX_TYPE,
        ErrorKind.LINE_DROPPED,
        ErrorKind.LOCKED_PERIOD,
    }
