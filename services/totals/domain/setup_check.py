"""What a saved Account Numbers setup means for its store, checked before any day is
closed: the codes as this store will send them (tags expanded), what is wrong with the
setup itself, and the verdict once the organisation has answered.

The organisation's rules (an account that does not exist, is archived or deleted, a bank
or system account, an unusual class) are posting's (`services/posting/domain/chart.py`,
applied through `POST /internal/v1/setup-check`); the ones here need no Xero.
"""

from dataclasses import dataclass, field
from typing import Any

from services.totals.domain.categories import POST_WITH_CREDIT_CARDS
from services.totals.domain.codes import TagError, expand, expand_code
from services.totals.domain.journal import entry_tax_rate, is_consolidated
from services.totals.domain.setup import StoreSetup

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Expanded:
    """The setup as this store's journals will carry it."""

    entries: list[tuple[str, str]]  # (entry, account code)
    tracking: list[dict[str, str]]
    problems: list[dict[str, Any]] = field(default_factory=list)


def _problem(category: str | None, code: str | None, message: str,
             kind: str = "setup") -> dict[str, Any]:
    return {"severity": ERROR, "kind": kind, "category": category, "account_code": code,
            "message": message, "xero_message": None}


def expand_setup(store_id: str, setup: StoreSetup) -> Expanded:
    """Each entry's code and each tracking option for this store; what cannot be expanded
    is an error naming its entry (a day that uses it would be refused)."""
    problems: list[dict[str, Any]] = []
    if is_consolidated(store_id):
        problems.append(_problem(None, None, "Store 999 holds the consolidated totals of all "
                                 "stores: a report, never posted. Post each store instead.",
                                 "consolidated-store"))
    entries = []
    for entry, template in setup.accounts.items():
        if template == POST_WITH_CREDIT_CARDS:
            if "visa" not in setup.accounts:
                problems.append(_problem(entry, template, f"Account Numbers > {entry}: CC "
                                         "posts debit cards with Visa's code, but visa has no "
                                         "account code."))
            continue
        try:
            entries.append((entry, expand_code(template, store_id, setup.store_class)))
        except TagError as exc:
            problems.append(_problem(entry, template,
                                     f"Account Numbers > {entry}: code {template!r} {exc}."))
    tracking = []
    for item in setup.tracking:
        try:
            tracking.append({"name": item.name,
                             "option": expand(item.option, store_id, setup.store_class)})
        except TagError as exc:
            problems.append(_problem(f"tracking {item.name}", None,
                                     f"Tracking {item.name}: option {item.option!r} {exc}."))
    return Expanded(entries, tracking, problems)


def tax_rates(setup: StoreSetup) -> dict[str, str]:
    """A tax-coded store's Xero tax rate per entry, checked against the organisation's
    rates as its lines will carry them (liability stores carry none)."""
    if setup.tax_mode != "tax-coded":
        return {}
    return {entry: rate for entry in setup.accounts
            if (rate := entry_tax_rate(entry, setup)) is not None}


def verdict(own: list[dict[str, Any]], organisation: list[dict[str, Any]] | None,
            unchecked: str | None = None) -> dict[str, Any]:
    """Ready only when the organisation answered and no error remains."""
    problems = sorted(own + (organisation or []), key=lambda p: p["severity"] != ERROR)
    errors = sum(1 for p in problems if p["severity"] == ERROR)
    checked = organisation is not None
    return {
        "ready": checked and errors == 0,
        "checked": checked,
        "errors": errors,
        "warnings": len(problems) - errors,
        "problems": problems,
        "reason": unchecked,
        "message": _message(checked, errors, len(problems) - errors, unchecked),
    }


def _message(checked: bool, errors: int, warnings: int, unchecked: str | None) -> str:
    if errors:
        return (f"Saved, not ready to post: {errors} error(s) would make every day fail. Fix "
                "them in the setup or in Xero, then save again.")
    if not checked:
        return f"Saved; not checked against Xero yet ({unchecked}): save again to check."
    if warnings:
        return f"Ready to post ({warnings} warning(s): check them with your accountant)."
    return "Ready to post."
