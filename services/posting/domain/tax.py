"""Tax-coded journals: lines carry a TaxType and Xero computes the tax on each line
(shared/xero_rules.py: per line, to the cent). The POS's own tax total must agree with
Xero's within the store's tolerance; with Exclusive amounts the difference goes to the
store's rounding account so that the journal balances with Xero's tax."""

from decimal import Decimal

from services.posting.domain.chart import Chart
from shared.contracts.events import ErrorKind, Journal, JournalLine, PostingError
from shared.xero_rules import line_tax

ROUNDING_CATEGORY = "tax-rounding"
_ZERO = Decimal("0.00")


def xero_tax(journal: Journal, chart: Chart) -> Decimal:
    """The tax Xero will compute on the journal's lines, signed like them (credits
    negative): collected tax is negative."""
    rates = chart.tax_rates or {}
    total = _ZERO
    for line in journal.lines:
        rate = rates.get(line.tax_type or "")
        if rate is not None:
            total += line_tax(line.amount, rate.rate, journal.line_amount_types)
    return total


def rounding(journal: Journal, chart: Chart) -> Decimal:
    """What an Exclusive journal still lacks to balance once Xero has added its tax."""
    if journal.tax is None or journal.line_amount_types != "Exclusive":
        return _ZERO
    return -(sum((line.amount for line in journal.lines), _ZERO) + xero_tax(journal, chart))


def with_rounding(journal: Journal, chart: Chart) -> Journal:
    """The journal as sent: plus its tax-rounding line when there is a difference."""
    amount = rounding(journal, chart)
    if amount == _ZERO or journal.tax is None or journal.tax.rounding_account is None:
        return journal
    line = JournalLine(category=ROUNDING_CATEGORY, account_code=journal.tax.rounding_account,
                       amount=amount, description="Tax rounding (POS tax against Xero's)",
                       tax_type="NONE", tracking=journal.lines[0].tracking)
    return journal.model_copy(update={"lines": [*journal.lines, line]})


def check_tax(journal: Journal, chart: Chart) -> PostingError | None:
    """The POS's tax total against the tax Xero will compute (and, for Exclusive amounts,
    what the rounding line would carry): a difference beyond the tolerance is refused."""
    check = journal.tax
    if check is None or chart.tax_rates is None:
        return None
    computed = -xero_tax(journal, chart)
    left = rounding(journal, chart)
    difference = check.pos_tax - computed
    if abs(difference) <= check.tolerance and abs(left) <= check.tolerance:
        if left != _ZERO and check.rounding_account is None:
            return PostingError(kind=ErrorKind.TAX_DIFFERENCE, category=ROUNDING_CATEGORY,
                                message=(
                f"The POS's tax ({check.pos_tax:.2f}) and the tax Xero computes per line"
                f" ({computed:.2f}) differ by {abs(left):.2f}: set a '{ROUNDING_CATEGORY}'"
                " account code in the Account Numbers setup for the difference."))
        return None
    return PostingError(kind=ErrorKind.TAX_DIFFERENCE, message=(
        f"The POS's tax for the day is {check.pos_tax:.2f} but Xero computes"
        f" {computed:.2f} on the tax-coded lines (per line, to the cent): a difference of"
        f" {abs(difference if difference else left):.2f}, more than the"
        f" {check.tolerance:.2f} allowed for rounding. Check the tax rates mapped in the"
        " Account Numbers setup against the POS's rates, and whether the POS reports"
        " amounts with or without tax."))
