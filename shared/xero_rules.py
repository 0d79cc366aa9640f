"""Xero's documented rules for manual journals that both the posting pre-flight and the
Xero sandbox apply, each with its source: one statement of each rule, so the check the
system runs before sending and the sandbox standing in for Xero cannot drift apart."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")

# System accounts Xero refuses in manual journals. help.xero.com "Locked and system
# accounts in your chart of accounts" (Chart-LockedSystem), table "Allows transactions or
# manual journals": No for Accounts Payable, Accounts Receivable, Bank Revaluation,
# Current Earnings (not an account in the API), Tracking Transfers, Unpaid Expense Claims
# and Unrealised Currency Gains; Yes for Historical Adjustments, Realised Currency Gains
# and Retained Earnings. help.xero.com "Record movements in system accounts"
# (Q_Accruals_ARAP) adds wages payable to receivables and payables, and advises a
# secondary account of the same type for journals to them. The GST/VAT and rounding
# system accounts are not refused. The codes are the spec's `SystemAccount` enum
# (xero_accounting.yaml, components/schemas/Account).
REFUSED_SYSTEM_ACCOUNTS = frozenset({
    "DEBTORS",
    "CREDITORS",
    "BANKCURRENCYGAIN",
    "TRACKINGTRANSFERS",
    "UNPAIDEXPCLM",
    "UNREALISEDCURRENCYGAIN",
    "WAGEPAYABLES",
})


def refused_in_manual_journals(system_account: str | None) -> bool:
    """True for a system account Xero does not accept on a manual journal line."""
    return bool(system_account) and str(system_account).upper() in REFUSED_SYSTEM_ACCOUNTS


def line_tax(amount: Decimal, rate_percent: Decimal, line_amount_types: str) -> Decimal:
    """The tax Xero computes on one tax-coded line, signed like the line.

    developer.xero.com "Rounding in Xero": Xero calculates tax per line, rounding to two
    decimal places, then sums the lines' tax (its worked example: 25.06, 25.61 and 25.63
    at 15% give 3.76 + 3.84 + 3.84 = 11.44, where the total at 15% would be 11.45). The
    half-way case is rounded away from zero. `Exclusive` lines carry the net amount (tax
    is added); `Inclusive` lines carry the gross amount (tax is inside)."""
    rate = rate_percent / Decimal(100)
    if line_amount_types == "Exclusive":
        tax = amount * rate
    elif line_amount_types == "Inclusive":
        tax = amount * rate / (1 + rate)
    else:
        return Decimal("0.00")
    return tax.quantize(CENT, rounding=ROUND_HALF_UP)
