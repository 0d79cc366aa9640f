"""How a day's totals are read (services/totals/domain/totals.py): each figure rounded
half up to the cent once, limits on its size, and a tender's amounts never negative,
refused in words that say where refunds go."""

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from services.totals.domain.totals import DayTotals

RECEIVED_NEGATIVE = (
    "Value error, a tender's received amount cannot be negative: put money given back to "
    "customers in `refunded` (a positive amount), e.g. "
    '{"type": "cash", "received": "500.00", "refunded": "20.00"}')
REFUNDED_NEGATIVE = (
    'Value error, `refunded` is the money given back to customers, as a positive amount '
    '(e.g. "20.00"), not negative')


def errors(body: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as refused:
        DayTotals.model_validate(body)
    return [(e["loc"], e["msg"]) for e in refused.value.errors()]


@pytest.mark.parametrize(("sent", "read"), [
    ("12.345", "12.35"), ("12.344", "12.34"), ("-12.345", "-12.35"), ("0.005", "0.01"),
    ("7", "7.00"), ("7.1", "7.10"), ("1E+2", "100.00"), ("-0.004", "0.00"),
    ("-0.00", "0.00"), ("999999999999.994", "999999999999.99"),
])
def test_each_figure_is_rounded_half_up_to_the_cent_as_it_is_read(sent: str, read: str) -> None:
    discounts = DayTotals.model_validate({"discounts": sent}).discounts
    assert str(discounts) == read  # the exponent too: a figure always has two places


@pytest.mark.parametrize("amount", ["1000000000000", "-1000000000000", "1000000000000.00",
                                    "1E+13"])
def test_a_trillion_or_more_is_a_typing_error(amount: str) -> None:
    assert errors({"discounts": amount}) == [(("discounts",), "Value error, is too large")]


def test_the_limit_holds_for_every_kind_of_figure() -> None:
    big = "1000000000000"
    assert errors({"revenue": [{"category": "rental", "amount": big}],
                   "tenders": [{"type": "cash", "received": big}],
                   "deposits": {"taken": big}}) == [
        (("revenue", 0, "amount"), "Value error, is too large"),
        (("tenders", 0, "received"), "Value error, is too large"),
        (("deposits", "taken"), "Value error, is too large"),
    ]


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_a_figure_must_be_a_finite_number(amount: str) -> None:
    assert [loc for loc, _ in errors({"discounts": amount})] == [("discounts",)]


def test_a_negative_received_amount_says_where_refunds_go() -> None:
    assert errors({"tenders": [{"type": "cash", "received": "-20.00"}]}) == [
        (("tenders", 0, "received"), RECEIVED_NEGATIVE)]


def test_a_negative_refund_says_it_is_a_positive_amount() -> None:
    assert errors({"tenders": [{"type": "visa", "received": "50", "refunded": "-5"}]}) == [
        (("tenders", 0, "refunded"), REFUNDED_NEGATIVE)]


def test_less_than_a_cent_below_zero_is_still_negative() -> None:
    # Checked before rounding: a sign is a POS's mistake, whatever the size.
    assert errors({"tenders": [{"type": "cash", "received": "-0.001", "refunded": "-0.001"}]}) \
        == [(("tenders", 0, "received"), RECEIVED_NEGATIVE),
            (("tenders", 0, "refunded"), REFUNDED_NEGATIVE)]


def test_a_tender_of_zero_and_its_defaults_are_accepted() -> None:
    tender = DayTotals.model_validate({"tenders": [
        {"type": "cash", "received": "0", "refunded": "0"}, {"type": "check"}]}).tenders
    assert [(str(t.received), str(t.refunded)) for t in tender] == [("0.00", "0.00")] * 2


def test_a_tenders_amounts_are_rounded_too() -> None:
    tender = DayTotals.model_validate({"tenders": [
        {"type": "cash", "received": "10.005", "refunded": "0.004"}]}).tenders[0]
    assert (str(tender.received), str(tender.refunded)) == ("10.01", "0.00")


def test_the_schema_still_says_tenders_are_at_least_zero() -> None:
    tender = DayTotals.model_json_schema()["$defs"]["TenderFigure"]["properties"]
    assert tender["received"]["minimum"] == 0 and tender["refunded"]["minimum"] == 0


cents = st.integers(-10**13, 10**13)


@given(cents, st.integers(0, 9))
def test_any_figure_below_a_trillion_reads_as_its_cents(whole_cents: int, extra: int) -> None:
    # `extra` is a third decimal place: below 5 rounds towards zero, from 5 away from it.
    sent = Decimal(whole_cents) / 100 + (Decimal(extra) / 1000).copy_sign(Decimal(whole_cents))
    read = DayTotals.model_validate({"over_short": str(sent)}).over_short
    away = 1 if extra >= 5 else 0
    expected = (Decimal(abs(whole_cents) + away) / 100).copy_sign(Decimal(whole_cents))
    assert read == expected and read.as_tuple().exponent == -2
