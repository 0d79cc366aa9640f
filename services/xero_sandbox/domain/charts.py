"""Charts of accounts for the seeded organisation templates."""

from dataclasses import dataclass, replace

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
    AccountSpec("860", "Rounding", "CURRLIAB", system_account="ROUNDING"),
    AccountSpec("960", "Retained Earnings", "EQUITY", system_account="RETAINEDEARNINGS"),
    AccountSpec("200", "Sales", "REVENUE", tax_type="OUTPUT2"),
    AccountSpec("210", "Hire Revenue", "REVENUE", tax_type="OUTPUT2"),
    AccountSpec("260", "Other Revenue", "REVENUE", tax_type="OUTPUT2"),
    AccountSpec("270", "Discounts Given", "REVENUE", tax_type="OUTPUT2"),
    AccountSpec("400", "Advertising", "OVERHEADS", tax_type="INPUT2"),
    AccountSpec("404", "Bank Fees", "OVERHEADS"),
    AccountSpec("690", "Cash Over/Short", "EXPENSE"),
]



def _taxed_like(chart: list[AccountSpec], output: str, names: dict[str, str]) -> list[AccountSpec]:
    """Another GST/VAT country's chart: the NZ one with its income tax type and names."""
    return [
        replace(spec, name=names.get(spec.code, spec.name),
                tax_type=output if spec.tax_type == "OUTPUT2" else spec.tax_type)
        for spec in chart
    ]


# A UK VAT organisation (the VAT account's SystemAccount is GST, as the spec's enum names it).
_UK_VAT = _taxed_like(_GST, "OUTPUT2", {"610": "Trade Debtors", "800": "Trade Creditors",
                                        "820": "VAT", "210": "Hire Income"})
# An Australian GST organisation.
_AU_GST = _taxed_like(_GST, "OUTPUT", {})

# Archived and deleted accounts beside live ones; the lock dates are set on the organisation.
_LOCKED: list[AccountSpec] = [
    *[a for a in _US_RENTAL if a.code not in ("4000", "4010")],
    AccountSpec("4000", "Rental Revenue", "REVENUE", status="ARCHIVED"),
    AccountSpec("4010", "Sales Revenue", "REVENUE", status="DELETED"),
]

TEMPLATES: dict[str, list[AccountSpec]] = {
    "us-rental": _US_RENTAL, "gst": _GST, "locked": _LOCKED, "uk-vat": _UK_VAT,
    "au-gst": _AU_GST,
}


@dataclass(frozen=True)
class TaxRateSpec:
    """One of the organisation's tax rates, as `GET /TaxRates` describes it (spec
    components/schemas/TaxRate): the account classes it may be used on, one component."""

    tax_type: str
    name: str
    rate: str  # percent, up to 4 decimal places
    report_tax_type: str
    applies_to: frozenset[str]  # account classes: ASSET, EQUITY, EXPENSE, LIABILITY, REVENUE
    status: str = "ACTIVE"


_ALL = frozenset({"ASSET", "EQUITY", "EXPENSE", "LIABILITY", "REVENUE"})
_INCOME = frozenset({"REVENUE", "ASSET", "LIABILITY"})
_EXPENSES = frozenset({"EXPENSE", "ASSET", "LIABILITY"})
_REVENUE = frozenset({"REVENUE"})

TAX_RATES: dict[str, list[TaxRateSpec]] = {
    "us-rental": [
        TaxRateSpec("TAX001", "Sales Tax", "0.0000", "USSALESTAX", _REVENUE),
        TaxRateSpec("NONE", "Tax Exempt", "0.0000", "NONE", _ALL),
    ],
    "gst": [
        TaxRateSpec("OUTPUT2", "15% GST on Income", "15.0000", "OUTPUT", _INCOME),
        TaxRateSpec("INPUT2", "15% GST on Expenses", "15.0000", "INPUT", _EXPENSES),
        TaxRateSpec("EXEMPTOUTPUT", "Exempt Income", "0.0000", "EXEMPTOUTPUT", _REVENUE),
        TaxRateSpec("ZERORATEDOUTPUT", "Zero Rated", "0.0000", "ZERORATEDOUTPUT", _REVENUE),
        TaxRateSpec("OUTPUT", "12.5% GST on Income (before October 2010)", "12.5000",
                    "OUTPUT", _INCOME, status="ARCHIVED"),
        TaxRateSpec("NONE", "No GST", "0.0000", "NONE", _ALL),
    ],
    "uk-vat": [
        TaxRateSpec("OUTPUT2", "20% (VAT on Income)", "20.0000", "OUTPUT", _INCOME),
        TaxRateSpec("INPUT2", "20% (VAT on Expenses)", "20.0000", "INPUT", _EXPENSES),
        TaxRateSpec("RROUTPUT", "5% (VAT on Income)", "5.0000", "OUTPUT", _INCOME),
        TaxRateSpec("ZERORATEDOUTPUT", "Zero Rated Income", "0.0000", "ZERORATEDOUTPUT",
                    _REVENUE),
        TaxRateSpec("EXEMPTOUTPUT", "Exempt Income", "0.0000", "EXEMPTOUTPUT", _REVENUE),
        TaxRateSpec("NONE", "No VAT", "0.0000", "NONE", _ALL),
    ],
    "au-gst": [
        TaxRateSpec("OUTPUT", "GST on Income", "10.0000", "OUTPUT", _INCOME),
        TaxRateSpec("INPUT", "GST on Expenses", "10.0000", "INPUT", _EXPENSES),
        TaxRateSpec("EXEMPTOUTPUT", "GST Free Income", "0.0000", "EXEMPTOUTPUT", _REVENUE),
        TaxRateSpec("BASEXCLUDED", "BAS Excluded", "0.0000", "BASEXCLUDED", _ALL),
        TaxRateSpec("NONE", "No GST", "0.0000", "NONE", _ALL),
    ],
}
TAX_RATES["locked"] = TAX_RATES["us-rental"]

# Tracking categories per template: name -> {option: status}.
TRACKING: dict[str, dict[str, dict[str, str]]] = {
    "gst": {"Store": {"Store 1": "ACTIVE", "Store 2": "ACTIVE", "Store 3": "ACTIVE",
                      "Store 9": "ARCHIVED"}},
    "uk-vat": {"Branch": {"London": "ACTIVE", "Leeds": "ACTIVE"}},
}

COUNTRY = {
    "us-rental": ("US", "USD", "US"),
    "locked": ("US", "USD", "US"),
    "gst": ("NZ", "NZD", "NZ"),
    "uk-vat": ("GB", "GBP", "UK"),
    "au-gst": ("AU", "AUD", "AU"),
}
