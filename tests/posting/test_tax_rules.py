"""Tax-coded journals, pure: Xero computes tax per line, rounded to the cent, then sums it
(developer.xero.com "Rounding in Xero": 25.06, 25.61 and 25.63 at 15% give 3.76 + 3.84 +
3.84 = 11.44 where the total at 15% would be 11.45). The POS's tax must agree within the
store's tolerance; with Exclusive amounts the difference goes to a rounding account."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.posting.domain.chart import Chart, TaxRate
from services.posting.domain.tax import (
    ROUNDING_CATEGORY,
    check_tax,
    rounding,
    with_rounding,
    xero_tax,
)
from shared.contracts.events import ErrorKind, Journal, JournalLine, TaxCheck, Tracking, money
from tests.support.examples import examples

GST = TaxRate("OUTPUT2", "GST on Income", Decimal("15"), applies_to=frozenset({"REVENUE"}))
ZERO = TaxRate("ZERORATED", "Zero Rated", Decimal("0"), applies_to=frozenset({"REVENUE"}))
BOOKS = Chart(tax_rates={"OUTPUT2": GST, "ZERORATED": ZERO})
REGION = [Tracking(name="Region", option="North")]


def rev(amount: str, tax_type: str | None = "OUTPUT2") -> JournalLine:
    return JournalLine(category="rental", account_code="4000", amount=-money(amount),
                       tax_type=tax_type)


def cash(amount: str) -> JournalLine:
    return JournalLine(category="cash", account_code="1210", amount=money(amount),
                       tracking=REGION)


def day(*lines: JournalLine, pos_tax: str | None = "11.45", kind: str = "Exclusive",
        rounding_account: str | None = "860", tolerance: str = "0.05") -> Journal:
    tax = None if pos_tax is None else TaxCheck(
        pos_tax=money(pos_tax), tolerance=money(tolerance), rounding_account=rounding_account)
    return Journal(narration="n", reference="r", date=date(2026, 11, 24), lines=list(lines),
                   line_amount_types=kind, tax=tax)


# Xero's worked example, as a day whose POS taxed the total (11.45).
XERO_EXAMPLE = (cash("87.75"), rev("25.06"), rev("25.61"), rev("25.63"))


def test_xero_computes_tax_per_line_and_sums_it() -> None:
    assert xero_tax(day(*XERO_EXAMPLE), BOOKS) == Decimal("-11.44")


def test_lines_without_a_known_rate_carry_no_tax() -> None:
    lines = (cash("100"), rev("50", None), rev("30", "NOSUCH"), rev("20", "ZERORATED"))
    assert xero_tax(day(*lines), BOOKS) == Decimal("0.00")
    assert xero_tax(day(*XERO_EXAMPLE), Chart()) == Decimal("0.00")


def test_inclusive_amounts_have_the_tax_inside() -> None:
    # 28.82 * 15 / 115 = 3.759…: 3.76, credited like its line.
    assert xero_tax(day(cash("28.82"), rev("28.82"), kind="Inclusive"), BOOKS) == \
        Decimal("-3.76")


def test_an_exclusive_journal_lacks_what_xero_rounded_away() -> None:
    assert rounding(day(*XERO_EXAMPLE), BOOKS) == Decimal("-0.01")
    balanced = (cash("87.74"), rev("25.06"), rev("25.61"), rev("25.63"))
    assert rounding(day(*balanced), BOOKS) == Decimal("0.00")
    short = (cash("87.70"), rev("25.06"), rev("25.61"), rev("25.63"))
    assert rounding(day(*short), BOOKS) == Decimal("0.04")


def test_only_a_tax_coded_exclusive_journal_has_rounding() -> None:
    assert rounding(day(*XERO_EXAMPLE, pos_tax=None), BOOKS) == Decimal("0.00")
    assert rounding(day(cash("88"), rev("25.06"), kind="Inclusive"), BOOKS) == \
        Decimal("0.00")


def test_the_rounding_line_balances_the_journal_with_xeros_tax() -> None:
    sent = with_rounding(day(*XERO_EXAMPLE), BOOKS)
    assert sent.lines[:4] == list(XERO_EXAMPLE)
    assert sent.lines[4] == JournalLine(
        category=ROUNDING_CATEGORY, account_code="860", amount=Decimal("-0.01"),
        description="Tax rounding (POS tax against Xero's)", tax_type="NONE",
        tracking=REGION)
    assert sum(line.amount for line in sent.lines) + xero_tax(sent, BOOKS) == 0
    assert ROUNDING_CATEGORY == "tax-rounding"


@pytest.mark.parametrize("journal", [
    day(cash("87.74"), rev("25.06"), rev("25.61"), rev("25.63")),  # nothing to round
    day(*XERO_EXAMPLE, rounding_account=None),
    day(*XERO_EXAMPLE, pos_tax=None),
])
def test_no_rounding_line_is_added_without_a_difference_or_an_account(
        journal: Journal) -> None:
    assert with_rounding(journal, BOOKS) is journal


def test_a_difference_within_the_tolerance_goes_to_the_rounding_account() -> None:
    assert check_tax(day(*XERO_EXAMPLE), BOOKS) is None
    assert check_tax(day(*XERO_EXAMPLE, tolerance="0.01"), BOOKS) is None
    error = check_tax(day(*XERO_EXAMPLE, rounding_account=None), BOOKS)
    assert error is not None
    assert (error.kind, error.category) == (ErrorKind.TAX_DIFFERENCE, ROUNDING_CATEGORY)
    assert error.message == (
        "The POS's tax (11.45) and the tax Xero computes per line (11.44) differ by 0.01:"
        " set a 'tax-rounding' account code in the Account Numbers setup for the"
        " difference.")


def test_an_inclusive_day_needs_no_rounding_account() -> None:
    inclusive = day(cash("28.82"), rev("28.82"), pos_tax="3.77", kind="Inclusive",
                    rounding_account=None)
    assert check_tax(inclusive, BOOKS) is None


def test_a_difference_beyond_the_tolerance_is_refused() -> None:
    error = check_tax(day(*XERO_EXAMPLE, tolerance="0.00"), BOOKS)
    assert error is not None
    assert (error.kind, error.category) == (ErrorKind.TAX_DIFFERENCE, None)
    assert error.message == (
        "The POS's tax for the day is 11.45 but Xero computes 11.44 on the tax-coded lines"
        " (per line, to the cent): a difference of 0.01, more than the 0.00 allowed for"
        " rounding. Check the tax rates mapped in the Account Numbers setup against the"
        " POS's rates, and whether the POS reports amounts with or without tax.")


def test_the_difference_named_is_the_pos_tax_against_xeros() -> None:
    inclusive = day(cash("28.82"), rev("28.82"), pos_tax="5.00", kind="Inclusive")
    error = check_tax(inclusive, BOOKS)
    assert error is not None and "a difference of 1.24, more than" in error.message


def test_a_journal_off_by_more_than_the_tolerance_is_refused_though_the_tax_agrees() -> None:
    # The POS's tax equals Xero's, but the lines miss 0.10 more: the rounding line would
    # carry more than rounding.
    off = day(cash("87.84"), rev("25.06"), rev("25.61"), rev("25.63"), pos_tax="11.44")
    error = check_tax(off, BOOKS)
    assert error is not None and error.category is None
    assert "a difference of 0.10, more than the 0.05 allowed" in error.message


def test_tax_is_not_judged_without_a_pos_total_or_the_rates() -> None:
    assert check_tax(day(*XERO_EXAMPLE, pos_tax=None), BOOKS) is None
    assert check_tax(day(*XERO_EXAMPLE, pos_tax="99"), Chart()) is None


@given(st.lists(st.integers(1, 10**7), min_size=1, max_size=5), st.integers(-5, 5))
@settings(max_examples=examples(100))
def test_a_pos_tax_within_the_tolerance_of_xeros_is_accepted(cents: list[int],
                                                             off: int) -> None:
    lines = [rev(str(Decimal(c) / 100)) for c in cents]
    computed = -xero_tax(day(cash("1"), *lines), BOOKS)
    pos_tax = computed + Decimal(off) / 100
    net = sum((-line.amount for line in lines), Decimal(0))
    journal = day(cash(str(net + pos_tax)), *lines, pos_tax=str(pos_tax))
    assert check_tax(journal, BOOKS) is None
    sent = with_rounding(journal, BOOKS)
    assert sum(line.amount for line in sent.lines) + xero_tax(sent, BOOKS) == 0
    assert check_tax(day(cash(str(net + pos_tax)), *lines, pos_tax=str(pos_tax + 1)),
                     BOOKS) is not None
