"""Charts of accounts for the seeded organisation templates."""

from dataclasses import dataclass

# Account type -> Xero's account class.
CLASS_OF_TYPE = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "FIXED": "ASSET",
    "INVENTORY": "ASSET",
    "NONCURRENT": "ASSET",
    "PREPAYMENT": "ASSET",
    "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY",
    "TERMLIAB": "LIABILITY",
    "PAYG": "LIABILITY",
    "EQUITY": "EQUITY",
    "DEPRECIATN": "EXPENSE",
    "DIRECTCOSTS": "EXPENSE",
    "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "OTHERINCOME": "REVENUE",
    "REVENUE": "REVENUE",
    "SALES": "REVENUE",
}


@dataclass(frozen=True)
class AccountSpec:
    code: str
    name: str
    type: str
    status: str = "ACTIVE"
    system_account: str = ""
    tax_type: str = "NONE"


_US_RENTAL: list[AccountSpec] = [
    AccountSpec("090", "Business Bank Account", "BANK"),
    AccountSpec("1100", "Accounts Receivable", "CURRENT", system_account="DEBTORS"),
    AccountSpec("1210", "Undeposited Cash", "CURRENT"),
    AccountSpec("1220", "Undeposited Checks", "CURRENT"),
    AccountSpec("1230", "Card Clearing Visa/MasterCard/Discover", "CURRENT"),
    AccountSpec("1240", "Card Clearing American Express", "CURRENT"),
    AccountSpec("1250", "Debit Card Clearing", "CURRENT"),
    AccountSpec("1260", "Other Tender Clearing", "CURRENT"),
    AccountSpec("1300", "POS Charges on Account", "CURRENT"),
    AccountSpec("2200", "Rental Tax Payable", "CURRLIAB"),
    AccountSpec("2210", "Sales Tax Payable", "CURRLIAB"),
    AccountSpec("2220", "Damage Waiver Tax Payable", "CURRLIAB"),
    AccountSpec("2300", "Customer Deposits Held", "CURRLIAB"),
    AccountSpec("2310", "Open Contract Suspense", "CURRLIAB"),
    AccountSpec("800", "Accounts Payable", "CURRLIAB", system_account="CREDITORS"),
    AccountSpec("960", "Retained Earnings", "EQUITY", system_account="RETAINEDEARNINGS"),
    AccountSpec("4000", "Rental Revenue", "REVENUE"),
    AccountSpec("4010", "Sales Revenue", "REVENUE"),
    AccountSpec("4020", "Damage Waiver Revenue", "REVENUE"),
    AccountSpec("4030", "Delivery and Pickup Revenue", "REVENUE"),
    AccountSpec("4040", "Labour Revenue", "REVENUE"),
    AccountSpec("4050", "Fuel Revenue", "REVENUE"),
    AccountSpec("4060", "Fees Revenue", "REVENUE"),
    AccountSpec("4070", "Forfeited Deposits", "REVENUE"),
    AccountSpec("4090", "Other Revenue", "REVENUE"),
    AccountSpec("4900", "Discounts Given", "REVENUE"),
    AccountSpec("6900", "Cash Over/Short", "EXPENSE"),
    AccountSpec("4095", "Old Rental Revenue", "REVENUE", status="ARCHIVED"),
]

# A New Zealand GST organisation: Xero's NZ demo-style codes.
_GST: list[AccountSpec] = [
    AccountSpec("090", "Business Bank Account", "BANK"),
    AccountSpec("610", "Accounts Receivable", "CURRENT", system_account="DEBTORS"),
    AccountSpec("620", "Undeposited Funds", "CURRENT"),
    AccountSpec("630", "Card Clearing", "CURRENT"),
    AccountSpec("800", "Accounts Payable", "CURRLIAB", system_account="CREDITORS"),
    AccountSpec("820", "GST", "CURRLIAB", system_account="GST"),
    AccountSpec("830", "Customer Deposits", "CURRLIAB"),
    AccountSpec("960", "Retained Earnings", "EQUITY", system_account="RETAINEDEARNINGS"),
    AccountSpec("200", "Sales", "REVENUE", tax_type="OUTPUT2"),
    AccountSpec("210", "Hire Revenue", "REVENUE", tax_type="OUTPUT2"),
    AccountSpec("260", "Other Revenue", "REVENUE", tax_type="OUTPUT2"),
    AccountSpec("400", "Advertising", "OVERHEADS", tax_type="INPUT2"),
    AccountSpec("404", "Bank Fees", "OVERHEADS"),
    AccountSpec("690", "Cash Over/Short", "EXPENSE"),
]

# Archived and deleted accounts beside live ones; the lock dates are set on the organisation.
_LOCKED: list[AccountSpec] = [
    *[a for a in _US_RENTAL if a.code not in ("4000", "4010")],
    AccountSpec("4000", "Rental Revenue", "REVENUE", status="ARCHIVED"),
    AccountSpec("4010", "Sales Revenue", "REVENUE", status="DELETED"),
]

TEMPLATES: dict[str, list[AccountSpec]] = {"us-rental": _US_RENTAL, "gst": _GST, "locked": _LOCKED}

# Tax types an account type allows, per template (NONE is allowed everywhere).
TAX_RULES: dict[str, dict[str, set[str]]] = {
    "us-rental": {"TAX001": {"REVENUE"}},
    "locked": {"TAX001": {"REVENUE"}},
    "gst": {
        "OUTPUT2": {"REVENUE", "SALES", "OTHERINCOME", "CURRENT", "CURRLIAB"},
        "INPUT2": {"EXPENSE", "OVERHEADS", "DIRECTCOSTS", "CURRENT", "CURRLIAB", "FIXED"},
        "EXEMPTOUTPUT": {"REVENUE", "SALES", "OTHERINCOME"},
        "ZERORATEDOUTPUT": {"REVENUE", "SALES", "OTHERINCOME"},
    },
}

COUNTRY = {
    "us-rental": ("US", "USD", "US"),
    "locked": ("US", "USD", "US"),
    "gst": ("NZ", "NZD", "NZ"),
}
