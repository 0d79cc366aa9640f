"""The entries of the Account Numbers setup: one account code per totals category."""

from enum import StrEnum


class RevenueCategory(StrEnum):
    RENTAL = "rental"
    SALES = "sales"
    DAMAGE_WAIVER = "damage-waiver"
    DELIVERY = "delivery"  # delivery and pickup
    LABOUR = "labour"
    FUEL = "fuel"
    FEES = "fees"
    OTHER = "other-revenue"


class TaxKind(StrEnum):
    RENTAL = "rental-tax"
    SALES = "sales-tax"
    DAMAGE_WAIVER = "damage-waiver-tax"


class TenderType(StrEnum):
    CASH = "cash"
    CHECK = "check"
    VISA = "visa"
    MASTERCARD = "mastercard"
    DISCOVER = "discover"
    AMEX = "amex"
    DEBIT = "debit"
    ON_ACCOUNT = "on-account"  # AR charges
    OTHER = "other-tender"


class OtherCategory(StrEnum):
    DISCOUNTS = "discounts"
    AR_PAYMENTS = "ar-payments"
    DEPOSITS_HELD = "deposits-held"
    DEPOSITS_FORFEITED = "deposits-forfeited"
    OPEN_CONTRACTS = "open-contracts"  # payments on contracts still open (suspense)
    OVER_SHORT = "over-short"
    TAX_ROUNDING = "tax-rounding"  # tax-coded stores: POS tax against Xero's, per line


CATEGORIES: tuple[str, ...] = tuple(
    str(member)
    for enum in (RevenueCategory, TaxKind, TenderType, OtherCategory)
    for member in enum
)
# Categories whose figures may be split further (by item category, by tax authority):
# a setup entry `rental/Excavators` overrides `rental` for that split.
SPLITTABLE: frozenset[str] = frozenset(
    str(member) for enum in (RevenueCategory, TaxKind) for member in enum
)
# A debit account code of `CC` means "post debit cards with the credit cards" (Visa's code).
POST_WITH_CREDIT_CARDS = "CC"

LABELS: dict[str, str] = {
    "rental": "Rental revenue",
    "sales": "Sales revenue",
    "damage-waiver": "Damage waiver revenue",
    "delivery": "Delivery and pickup revenue",
    "labour": "Labour revenue",
    "fuel": "Fuel revenue",
    "fees": "Fees revenue",
    "other-revenue": "Other revenue",
    "rental-tax": "Rental tax",
    "sales-tax": "Sales tax",
    "damage-waiver-tax": "Damage waiver tax",
    "cash": "Cash",
    "check": "Checks",
    "visa": "Visa",
    "mastercard": "MasterCard",
    "discover": "Discover",
    "amex": "American Express",
    "debit": "Debit cards",
    "on-account": "Charges on account",
    "other-tender": "Other tenders",
    "discounts": "Discounts",
    "ar-payments": "Payments on account",
    "deposits-held": "Deposits",
    "deposits-forfeited": "Forfeited deposits",
    "open-contracts": "Open contract payments",
    "over-short": "Cash over/short",
    "tax-rounding": "Tax rounding",
}


def setup_key_problem(key: str) -> str | None:
    """Why a key of the setup's `accounts` is not a category, or None when it is one."""
    base, slash, split = key.partition("/")
    if base not in CATEGORIES:
        return f"unknown category {base!r}; known: {', '.join(CATEGORIES)}"
    if slash and base not in SPLITTABLE:
        return f"{base!r} cannot be split by '/': only revenue and tax categories can"
    if slash and not split.strip():
        return "empty split after '/'"
    return None
