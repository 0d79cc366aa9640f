"""The journal's rules beyond the liability example day
(services/totals/domain/journal.py): tax-coded stores (each line's tax rate, the POS's
tax total for posting to check, amounts with or without tax), the currency, the journal
as published and the fingerprint an identical re-close is recognised by."""

import hashlib
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from services.totals.domain.examples import example_store_setup, example_totals
from services.totals.domain.journal import (
    BuiltDay,
    TotalsRefused,
    build_day,
    entry_tax_rate,
    fingerprint,
    make_journal,
    posting_reference,
)
from services.totals.domain.setup import StoreSetup
from services.totals.domain.totals import DayTotals
from shared.contracts.events import Journal, JournalLine, JournalStatus, TaxCheck
from tests.totals.tax_examples import GST_RATES, NZ_ACCOUNTS, NZ_DAY, UK_DAY

LINES = TypeAdapter(list[JournalLine])


def coded(**changes: Any) -> StoreSetup:
    body = {"accounts": NZ_ACCOUNTS, "currency": "NZD", "tax_mode": "tax-coded",
            "tax_rates": GST_RATES, **changes}
    return StoreSetup.model_validate(body)


def totals(body: dict[str, Any], **changes: Any) -> DayTotals:
    return DayTotals.model_validate({**body, **changes})


def rows(day: BuiltDay) -> list[tuple[str, str, str, str | None]]:
    return [(line.category, line.account_code, str(line.amount), line.tax_type)
            for line in day.lines]


def refused(store: str, setup: StoreSetup, day: DayTotals) -> list[tuple[Any, ...]]:
    with pytest.raises(TotalsRefused) as caught:
        build_day(store, setup, day)
    return [(p.loc, p.kind, p.message, p.category) for p in caught.value.problems]


def test_a_day_without_tax_in_its_amounts_carries_each_lines_rate() -> None:
    day = build_day("5", coded(), totals(NZ_DAY))
    assert rows(day) == [
        ("rental", "210", "-25.06", "OUTPUT2"),
        ("sales", "200", "-25.61", "OUTPUT2"),
        ("rental/Trailers", "210", "-25.63", "OUTPUT2"),  # the split has its base's rate
        ("cash", "620", "87.75", "NONE"),  # a tender carries no tax
    ]
    # No tax line: Xero computes the tax; the POS's total is what posting checks it with.
    assert day.line_amount_types == "Exclusive"
    assert day.tax == TaxCheck(pos_tax=Decimal("11.45"), tolerance=Decimal("0.05"),
                               rounding_account="860")
    assert (day.status, day.currency) == (JournalStatus.POSTED, "NZD")


def test_a_day_with_tax_in_its_amounts_balances_without_its_tax() -> None:
    day = build_day("5", coded(currency="GBP", amounts_include_tax=True), totals(UK_DAY))
    assert rows(day) == [
        ("rental", "210", "-120.00", "OUTPUT2"),
        ("sales", "200", "-59.99", "OUTPUT2"),
        ("discounts", "270", "10.01", "OUTPUT2"),  # a discount reduces the tax too
        ("cash", "620", "169.98", "NONE"),
    ]
    assert day.line_amount_types == "Inclusive"
    assert day.tax == TaxCheck(pos_tax=Decimal("28.33"), tolerance=Decimal("0.05"),
                               rounding_account="860")


def test_without_tax_in_the_amounts_the_tax_counts_towards_the_balance() -> None:
    # The same day read as amounts without tax is out by its 28.33 of tax.
    problems = refused("5", coded(currency="GBP"), totals(UK_DAY))
    assert [(loc, kind) for loc, kind, _, _ in problems] == [(("body",), "unbalanced")]
    assert "differ by 28.33" in problems[0][2]


def test_the_pos_tax_is_every_tax_figure_refunds_less() -> None:
    day = build_day("5", coded(tax_tolerance="0.10"), totals(NZ_DAY, taxes=[
        {"kind": "rental-tax", "amount": "12.45"},
        {"kind": "sales-tax", "authority": "State", "amount": "-1.00"},
    ]))
    assert day.tax == TaxCheck(pos_tax=Decimal("11.45"), tolerance=Decimal("0.10"),
                               rounding_account="860")


def test_the_rounding_account_is_expanded_for_the_store_and_optional() -> None:
    tagged = build_day("5", coded(accounts={**NZ_ACCOUNTS, "tax-rounding": "86#"}),
                       totals(NZ_DAY))
    assert tagged.tax is not None and tagged.tax.rounding_account == "865"
    accounts = {k: v for k, v in NZ_ACCOUNTS.items() if k != "tax-rounding"}
    plain = build_day("5", coded(accounts=accounts), totals(NZ_DAY))
    assert plain.tax is not None and plain.tax.rounding_account is None


def test_a_rounding_account_that_cannot_expand_is_named() -> None:
    setup = coded(accounts={**NZ_ACCOUNTS, "tax-rounding": "8###"})
    assert refused("12345", setup, totals(NZ_DAY)) == [(
        ("setup", "accounts", "tax-rounding"), "bad-code",
        "account code '8###' for tax-rounding: 3 '#' cannot hold store number 12345 "
        "(5 digits)", None)]


def test_a_taxable_line_without_a_rate_is_refused_naming_the_rate_to_set() -> None:
    setup = coded(tax_rates={"sales": "OUTPUT2"})
    assert refused("5", setup, totals(NZ_DAY)) == [
        (("setup", "tax_rates", "rental"), "unmapped-tax",
         "Rental revenue has an amount (25.06) but no tax rate: set tax_rates 'rental' in the"
         " Account Numbers setup to the Xero tax rate (for example OUTPUT2 for 15% GST on "
         "Income), or NONE if it carries no tax", "rental"),
        # A split without a rate of its own names its base's entry.
        (("setup", "tax_rates", "rental"), "unmapped-tax",
         "Rental revenue - Trailers has an amount (25.63) but no tax rate: set tax_rates "
         "'rental' in the Account Numbers setup to the Xero tax rate (for example OUTPUT2 "
         "for 15% GST on Income), or NONE if it carries no tax", "rental/Trailers"),
    ]


@pytest.mark.parametrize("entry", ["discounts", "deposits-forfeited", "fees"])
def test_sales_and_what_reduces_or_forfeits_them_need_a_rate(entry: str) -> None:
    body: dict[str, Any] = {"tenders": [{"type": "cash", "received": "10.00"}]}
    if entry == "discounts":
        body |= {"revenue": [{"category": "rental", "amount": "20.00"}], "discounts": "10.00"}
    elif entry == "deposits-forfeited":
        body |= {"deposits": {"taken": "10.00", "forfeited": "10.00"}}
    else:
        body |= {"revenue": [{"category": "fees", "amount": "10.00"}]}
    setup = coded(accounts={**NZ_ACCOUNTS, "deposits-held": "2300", "deposits-forfeited": "4070",
                            "fees": "4060"}, tax_rates={"rental": "OUTPUT2"})
    assert [(loc, kind) for loc, kind, _, _ in refused("5", setup, totals(body))] == [
        (("setup", "tax_rates", entry), "unmapped-tax")]


def test_lines_that_carry_no_tax_need_no_rate() -> None:
    setup = coded(accounts={**NZ_ACCOUNTS, "deposits-held": "2300", "ar-payments": "1300"})
    day = build_day("5", setup, totals({
        "tenders": [{"type": "cash", "received": "30.00"}, {"type": "visa", "received": "1"}],
        "ar_payments": "20.00", "deposits": {"taken": "10.00"}, "over_short": "1.00"}))
    assert {(line.category, line.tax_type) for line in day.lines} == {
        ("cash", "NONE"), ("visa", "NONE"), ("ar-payments", "NONE"),
        ("deposits-held", "NONE"), ("over-short", "NONE")}


def test_a_mapped_rate_wins_over_none_for_any_line() -> None:
    day = build_day("5", coded(tax_rates={**GST_RATES, "cash": "EXEMPTOUTPUT"}), totals(NZ_DAY))
    assert rows(day)[-1] == ("cash", "620", "87.75", "EXEMPTOUTPUT")


def test_a_split_with_its_own_rate_carries_it() -> None:
    day = build_day("5", coded(tax_rates={**GST_RATES, "rental/Trailers": "ZERORATED"}),
                    totals(NZ_DAY))
    assert rows(day)[2] == ("rental/Trailers", "210", "-25.63", "ZERORATED")


def test_entry_tax_rate_falls_back_to_the_base_entry() -> None:
    setup = coded(tax_rates={"rental": "OUTPUT2", "sales/Parts": "ZERORATED"})
    assert entry_tax_rate("rental", setup) == "OUTPUT2"
    assert entry_tax_rate("rental/Lifts", setup) == "OUTPUT2"
    assert entry_tax_rate("sales/Parts", setup) == "ZERORATED"
    assert entry_tax_rate("sales", setup) is None
    assert entry_tax_rate("sales/Tools", setup) is None


def test_a_liability_store_posts_its_tax_lines_with_no_tax_rate() -> None:
    setup = StoreSetup.model_validate({**example_store_setup().model_dump(),
                                       "tax_rates": {"rental": "OUTPUT2"}})
    day = build_day("12", setup, example_totals())
    assert day.line_amount_types == "NoTax" and day.tax is None
    assert {line.tax_type for line in day.lines} == {None}
    assert [str(line.amount) for line in day.lines if line.category.endswith("-tax")
            or "-tax/" in line.category] == ["-87.50", "-24.84", "-8.75"]


@pytest.mark.parametrize(("sent", "expected"), [(None, []), ("USD", [])])
def test_totals_in_the_stores_currency_or_none_are_accepted(sent: str | None,
                                                            expected: list[Any]) -> None:
    day = build_day("12", example_store_setup(), example_totals().model_copy(
        update={"currency": sent}))
    assert day.currency == "USD" and len(day.lines) == 26


def test_totals_in_another_currency_are_refused_naming_both() -> None:
    assert refused("12", example_store_setup(), example_totals().model_copy(
        update={"currency": "NZD"})) == [(
            ("body", "currency"), "currency",
            "totals are in NZD but the store's setup says USD", None)]


def test_the_journal_as_published() -> None:
    day = build_day("5", coded(journal_status="DRAFT"), totals(NZ_DAY))
    journal = make_journal("5", date(2026, 11, 20), 3, day)
    assert journal == Journal(
        narration="POS totals store 5 2026-11-20 rev 3 [glb:5:2026-11-20:3]",
        reference="glb:5:2026-11-20:3", date=date(2026, 11, 20),
        status=JournalStatus.DRAFT, lines=list(day.lines), line_amount_types="Exclusive",
        currency="NZD", tax=day.tax)
    assert posting_reference("0042", date(2026, 1, 2), 1) == "glb:0042:2026-01-02:1"


def _liability_fingerprint(status: str, lines: list[JournalLine]) -> str:
    return hashlib.sha256(status.encode() + LINES.dump_json(lines)).hexdigest()


def test_a_liability_days_fingerprint_is_its_status_and_lines() -> None:
    day = build_day("12", example_store_setup(), example_totals())
    assert day.fingerprint == _liability_fingerprint("POSTED", list(day.lines))
    draft = StoreSetup.model_validate({**example_store_setup().model_dump(),
                                       "journal_status": "DRAFT"})
    as_draft = build_day("12", draft, example_totals())
    assert as_draft.status == JournalStatus.DRAFT
    assert as_draft.fingerprint == _liability_fingerprint("DRAFT", list(day.lines))


def test_a_tax_coded_days_fingerprint_counts_its_amount_type_and_tax_check() -> None:
    day = build_day("5", coded(), totals(NZ_DAY))
    tax = day.tax
    assert tax is not None
    digest = hashlib.sha256(b"POSTED" + LINES.dump_json(list(day.lines))
                            + f"Exclusive{tax.model_dump_json()}".encode())
    assert day.fingerprint == digest.hexdigest()
    lines = list(day.lines)
    assert fingerprint(lines, JournalStatus.POSTED, "Inclusive", tax) != day.fingerprint
    other_tax = tax.model_copy(update={"tolerance": Decimal("0.06")})
    assert fingerprint(lines, JournalStatus.POSTED, "Exclusive", other_tax) != day.fingerprint
    assert fingerprint(lines, JournalStatus.POSTED) == \
        _liability_fingerprint("POSTED", lines)


def test_a_day_with_nothing_to_post_is_the_same_whatever_its_status() -> None:
    draft = StoreSetup.model_validate({**example_store_setup().model_dump(),
                                       "journal_status": "DRAFT"})
    empty = DayTotals()
    as_draft, as_posted = build_day("12", draft, empty), build_day("12", example_store_setup(),
                                                                    empty)
    assert as_draft.nothing_to_post and as_posted.nothing_to_post
    assert as_draft.fingerprint == as_posted.fingerprint == _liability_fingerprint("POSTED", [])
    assert as_draft.status == JournalStatus.DRAFT


@given(st.integers(1, 10**6), st.integers(0, 10**6))
def test_any_nz_day_without_tax_in_its_amounts_posts_its_sales_and_tax_check(
    sales_cents: int, tax_cents: int
) -> None:
    sales, tax = Decimal(sales_cents).scaleb(-2), Decimal(tax_cents).scaleb(-2)
    day = build_day("5", coded(), totals({
        "revenue": [{"category": "sales", "amount": str(sales)}],
        "taxes": [{"kind": "sales-tax", "amount": str(tax)}],
        "tenders": [{"type": "visa", "received": str(sales + tax)}]}))
    assert rows(day) == [("sales", "200", str(-sales), "OUTPUT2"),
                         ("visa", "630", str(sales + tax), "NONE")]
    assert day.tax is not None and day.tax.pos_tax == tax


def test_a_day_without_tax_figures_has_a_pos_tax_of_zero_cents() -> None:
    day = build_day("5", coded(), totals({"revenue": [{"category": "sales", "amount": "10"}],
                                          "tenders": [{"type": "cash", "received": "10"}]}))
    assert day.tax is not None and str(day.tax.pos_tax) == "0.00"


def test_the_rounding_account_may_use_the_store_class() -> None:
    setup = coded(accounts={**NZ_ACCOUNTS, "tax-rounding": "86{Class}"}, store_class="7")
    day = build_day("5", setup, totals(NZ_DAY))
    assert day.tax is not None and day.tax.rounding_account == "867"


def test_a_split_holding_a_slash_falls_back_to_its_category() -> None:
    setup = coded(tax_rates={"rental": "OUTPUT2", "rental/Lifts": "ZERORATED"})
    assert entry_tax_rate("rental/Lifts/Scissor", setup) == "OUTPUT2"


def test_tracking_options_may_use_the_store_class() -> None:
    setup = StoreSetup.model_validate({**example_store_setup().model_dump(),
                                       "store_class": "EQ",
                                       "tracking": [{"name": "Class", "option": "{Class}-#"}]})
    day = build_day("7", setup, example_totals())
    assert {(t.name, t.option) for line in day.lines for t in line.tracking} == {("Class", "EQ-7")}


def test_debit_posting_with_a_visa_code_that_cannot_expand_names_visa() -> None:
    setup = StoreSetup.model_validate({"accounts": {"visa": "12###", "debit": "CC",
                                                    "cash": "1210"}})
    assert refused("12345", setup, totals({"tenders": [
        {"type": "debit", "received": "5"}, {"type": "cash", "received": "0"}]}))[0][:3] == (
        ("setup", "accounts", "visa"), "bad-code",
        "account code '12###' for visa: 3 '#' cannot hold store number 12345 (5 digits)")


def test_open_contract_payments_released_are_named_where_they_are() -> None:
    setup = StoreSetup.model_validate({"accounts": {"cash": "1210"}})
    assert refused("5", setup, totals({"open_contracts": {"released": "40.00"},
                                       "tenders": [{"type": "cash", "received": "0"}],
                                       "over_short": "40.00"})) == [(
        ("body", "open_contracts", "released"), "unmapped",
        "Open contract payments - released has an amount (40.00) but no account code: set "
        "'open-contracts' in the Account Numbers setup", "open-contracts"),
        (("body", "over_short"), "unmapped",
         "Cash over/short has an amount (40.00) but no account code: set 'over-short' in "
         "the Account Numbers setup", "over-short")]


@pytest.mark.parametrize(("body", "debits", "credits"), [
    ({"revenue": [{"category": "rental", "amount": "10"}]}, "0.00", "10.00"),
    ({"tenders": [{"type": "cash", "received": "10"}]}, "10.00", "0.00"),
])
def test_an_unbalanced_day_says_both_sides_in_cents(body: dict[str, Any], debits: str,
                                                    credits: str) -> None:
    assert refused("12", example_store_setup(), totals(body)) == [(
        ("body",), "unbalanced",
        f"the totals do not balance: debits {debits} (tenders, discounts, deposits "
        f"applied/refunded, ...) and credits {credits} (revenue, tax, deposits taken, ...) "
        "differ by 10.00, more than the store's over/short tolerance of 5.00; over/short "
        "should balance the drawer", None)]
