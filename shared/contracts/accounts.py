"""Which class of Xero account each Account Numbers entry posts to.

Totals owns the entries and posting owns Xero's chart; both judge a code by this: a
setup entry mapped to an account of another class is unusual (a warning when the setup is
saved), and an account suggested in place of a refused one is always of the right class.
Xero's account classes are ASSET, EQUITY, EXPENSE, LIABILITY and REVENUE (the `Class` of
an account: developer.xero.com api/accounting/types#accounts, AccountClassType in Xero's
OpenAPI spec).
"""

REVENUE = frozenset({"REVENUE"})
LIABILITY = frozenset({"LIABILITY"})
ASSET = frozenset({"ASSET"})

_CLASSES: dict[str, frozenset[str]] = {
    **dict.fromkeys(("rental", "sales", "damage-waiver", "delivery", "labour", "fuel", "fees",
                     "other-revenue", "deposits-forfeited"), REVENUE),
    **dict.fromkeys(("rental-tax", "sales-tax", "damage-waiver-tax", "deposits-held",
                     "open-contracts"), LIABILITY),
    # Tenders and payments on account land in clearing (current asset) accounts.
    **dict.fromkeys(("cash", "check", "visa", "mastercard", "discover", "amex", "debit",
                     "on-account", "other-tender", "ar-payments"), ASSET),
    # A contra-revenue account or an expense, as the accountant prefers.
    "discounts": frozenset({"REVENUE", "EXPENSE"}),
    "over-short": frozenset({"EXPENSE", "REVENUE"}),
}


def expected_classes(entry: str) -> frozenset[str] | None:
    """The classes an entry (`rental`, or a split such as `rental/Excavators`) posts to;
    None for a name that is no entry (then any class will do)."""
    return _CLASSES.get(entry.partition("/")[0].strip().lower())
