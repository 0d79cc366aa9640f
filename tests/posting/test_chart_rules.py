"""The chart check's rules, pure: what is read from Xero's `/Accounts`, `/Organisation`,
`/TaxRates` and `/TrackingCategories`, and each refusal a journal line can meet before it
is sent, with the advice it carries."""

import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.posting.domain.chart import (
    TAX_RATES_KEY,
    TRACKING_KEY,
    Account,
    Chart,
    TaxRate,
    TrackingCategory,
    chart_from_xero,
    check_currency,
    check_journal,
    check_line,
    check_tax_type,
    check_tracking,
    missing_options,
    parse_xero_date,
    similar_accounts,
    suggest_clearing_account,
    unusual_account,
)
from shared.contracts.events import ErrorKind, Journal, JournalLine, TaxCheck, Tracking, money
from tests.support.examples import examples

DAY = date(2026, 11, 24)
ORG = "Demo Rentals"


def chart(*accounts: Account, name: str = ORG, **rest: object) -> Chart:
    return Chart(accounts={a.code.upper(): a for a in accounts}, organisation_name=name,
                 **rest)  # type: ignore[arg-type]


def line(category: str, code: str, amount: str = "0", tax_type: str | None = None,
         tracking: list[Tracking] | None = None) -> JournalLine:
    return JournalLine(category=category, account_code=code, amount=money(amount),
                       tax_type=tax_type, tracking=tracking or [])


def journal(*lines: JournalLine, currency: str | None = None, tax: TaxCheck | None = None,
            day: date = DAY) -> Journal:
    return Journal(narration="n", reference="r", date=day, lines=list(lines),
                   currency=currency, tax=tax,
                   line_amount_types="Exclusive" if tax else "NoTax")


CASH = Account("1210", "Undeposited Cash", "CURRENT", account_class="ASSET")
RENTAL = Account("4000", "Rental Revenue", "REVENUE", account_class="REVENUE")


# --- reading Xero's answers ---

def test_a_chart_is_read_from_xeros_accounts_and_organisation() -> None:
    accounts: list[dict[str, Any]] = [
        {"Code": "1210", "Name": "Undeposited Cash", "Type": "CURRENT", "Status": "ACTIVE",
         "Class": "ASSET", "TaxType": "NONE"},
        {"Code": "ar", "Name": "Receivables", "Type": "CURRENT", "SystemAccount": "DEBTORS"},
        {"Name": "Business Bank", "Type": "BANK"},  # Xero's bank accounts may have no code
        {"Code": "", "Name": "No code"},
        {"Code": 800},
    ]
    organisation = {
        "Name": ORG, "BaseCurrency": "NZD", "EndOfYearLockDate": "2026-03-31T00:00:00",
        "PeriodLockDate": "/Date(1780185600000+0000)/",
        TAX_RATES_KEY: [
            {"TaxType": "OUTPUT2", "Name": "GST on Income", "Status": "ACTIVE",
             "EffectiveRate": 15, "DisplayTaxRate": 12.5, "CanApplyToRevenue": True,
             "CanApplyToAssets": False},
            {"TaxType": "INPUT2", "DisplayTaxRate": "12.5", "CanApplyToAssets": True,
             "CanApplyToEquity": True, "CanApplyToExpenses": True,
             "CanApplyToLiabilities": True},
            {"TaxType": "NONE", "Name": "No GST", "Status": "DELETED"},
        ],
        TRACKING_KEY: [
            {"Name": "Region", "Status": "ACTIVE", "TrackingCategoryID": "cat-1",
             "Options": [{"Name": "North", "Status": "ACTIVE"}, {"Name": "South"},
                         {"Name": "East", "Status": "ARCHIVED"}]},
            {"Status": "ARCHIVED"},
            {"Name": "Job", "Options": [{"Name": "A"}]},
        ],
    }
    assert chart_from_xero(accounts, organisation) == Chart(
        accounts={
            "1210": Account("1210", "Undeposited Cash", "CURRENT", "ACTIVE", None, "NONE",
                            "ASSET"),
            "AR": Account("ar", "Receivables", "CURRENT", "ACTIVE", "DEBTORS", None, ""),
            "800": Account("800", "", "", "ACTIVE", None, None, ""),
        },
        period_lock_date=date(2026, 5, 31),
        end_of_year_lock_date=date(2026, 3, 31),
        organisation_name=ORG,
        base_currency="NZD",
        tax_rates={
            "OUTPUT2": TaxRate("OUTPUT2", "GST on Income", Decimal("15"), "ACTIVE",
                               frozenset({"REVENUE"})),
            "INPUT2": TaxRate("INPUT2", "", Decimal("12.5"), "ACTIVE",
                              frozenset({"ASSET", "EQUITY", "EXPENSE", "LIABILITY"})),
            "NONE": TaxRate("NONE", "No GST", Decimal("0"), "DELETED", frozenset()),
        },
        tracking={
            "region": TrackingCategory("Region", "ACTIVE",
                                       {"North": "ACTIVE", "South": "ACTIVE",
                                        "East": "ARCHIVED"}, "cat-1"),
            "": TrackingCategory("", "ARCHIVED", {}, ""),
            "job": TrackingCategory("Job", "ACTIVE", {"A": "ACTIVE"}, ""),
        },
    )


def test_an_organisation_read_without_its_settings_has_none() -> None:
    read = chart_from_xero([], {"Name": ORG, "BaseCurrency": ""})
    assert (read.tax_rates, read.tracking, read.has_settings, read.base_currency) == (
        None, None, False, None)
    assert chart_from_xero([], None) == Chart()
    settled = chart_from_xero([], {TAX_RATES_KEY: [], TRACKING_KEY: []})
    assert (settled.tax_rates, settled.tracking, settled.has_settings) == ({}, {}, True)


def test_an_account_without_a_class_takes_it_from_its_type() -> None:
    # AccountType and AccountClassType in Xero's accounting OpenAPI spec.
    kinds = {t: Account("1", "x", t).kind for t in (
        "BANK", "CURRENT", "FIXED", "INVENTORY", "NONCURRENT", "PREPAYMENT", "CURRLIAB",
        "LIABILITY", "TERMLIAB", "PAYG", "EQUITY", "DEPRECIATN", "DIRECTCOSTS", "EXPENSE",
        "OVERHEADS", "OTHERINCOME", "REVENUE", "SALES", "ODD")}
    assert kinds == {
        **dict.fromkeys(("BANK", "CURRENT", "FIXED", "INVENTORY", "NONCURRENT",
                         "PREPAYMENT"), "ASSET"),
        **dict.fromkeys(("CURRLIAB", "LIABILITY", "TERMLIAB", "PAYG"), "LIABILITY"),
        "EQUITY": "EQUITY",
        **dict.fromkeys(("DEPRECIATN", "DIRECTCOSTS", "EXPENSE", "OVERHEADS"), "EXPENSE"),
        **dict.fromkeys(("OTHERINCOME", "REVENUE", "SALES"), "REVENUE"),
        "ODD": "",
    }
    assert Account("1", "x", "CURRENT", account_class="EQUITY").kind == "EQUITY"


@pytest.fixture
def zone_far_from_utc() -> Iterator[None]:
    """The process's own zone (13 hours east of UTC) must not move a Xero date."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "Pacific/Auckland")
        time.tzset()
        yield
    time.tzset()


@pytest.mark.usefixtures("zone_far_from_utc")
@pytest.mark.parametrize(("text", "day"), [
    # developer.xero.com "Dates and timestamps explained": the offset applies before the date.
    ("/Date(1419937200000+1300)/", date(2014, 12, 31)),
    ("/Date(1419937200000)/", date(2014, 12, 30)),  # 11:00 UTC
    ("/Date(1419983940000)/", date(2014, 12, 30)),  # 23:59 UTC: no offset is none
    ("/Date(1419983970000+0000)/", date(2014, 12, 30)),  # 23:59:30 UTC
    ("/Date(1419982200000+0030)/", date(2014, 12, 31)),  # 23:30 UTC plus half an hour
    ("/Date(1419982200000+0029)/", date(2014, 12, 30)),
    ("/Date(1419901200000-0200)/", date(2014, 12, 29)),  # 01:00 UTC, two hours west
    ("2026-11-24", date(2026, 11, 24)),
    (" 2026-11-24T00:00:00 ", date(2026, 11, 24)),
    ("", None),
    (None, None),
])
def test_xero_dates_are_read_in_the_organisations_zone(text: str | None,
                                                        day: date | None) -> None:
    assert parse_xero_date(text) == day


# --- the checks, each on its own ---

def test_a_journal_in_another_currency_than_the_books_is_refused() -> None:
    books = chart(CASH, base_currency="NZD")
    for same in (None, "", "NZD"):
        assert check_currency(same, books) is None
    assert check_currency("USD", chart(CASH)) is None  # currency not read: Xero's to judge
    error = check_currency("USD", books)
    assert error is not None and error.kind is ErrorKind.CURRENCY
    assert error.message == (
        "The store's currency is USD (Account Numbers setup) but the Xero organisation"
        f" \"{ORG}\" keeps its books in NZD: Xero would book these USD amounts as NZD. Set"
        " the store's currency to NZD if the POS reports NZD, or connect the store to the"
        " organisation that keeps its books in USD.")
    unnamed = check_currency("USD", chart(CASH, name="", base_currency="NZD"))
    assert unnamed is not None and "the Xero organisation keeps its books" in unnamed.message


def test_an_unknown_code_is_refused_with_similar_accounts_named() -> None:
    books = chart(CASH, RENTAL, Account("4010", "Rental Revenue Tools", "REVENUE"))
    error = check_line(line("rental", "4001"), books)
    assert error is not None
    assert (error.kind, error.category, error.account_code) == (
        ErrorKind.UNKNOWN_ACCOUNT, "rental", "4001")
    assert error.message == (
        "Account Numbers > rental: account code '4001' does not exist in Xero for Demo"
        " Rentals. Change it to an existing account code (perhaps 4000 \"Rental Revenue\","
        " 4010 \"Rental Revenue Tools\"), or create the account in Xero's chart of accounts.")
    alone = check_line(line("rental", "4001"), chart(name=""))
    assert alone is not None and alone.message == (
        "Account Numbers > rental: account code '4001' does not exist in Xero. Change it to"
        " an existing account code, or create the account in Xero's chart of accounts.")


def test_codes_are_looked_up_whatever_their_case() -> None:
    books = chart(Account("ab1", "Sales", "REVENUE"))
    assert check_line(line("sales", "AB1"), books) is None
    assert check_line(line("sales", "ab1"), books) is None


def test_a_deleted_account_cannot_be_restored_an_archived_one_can() -> None:
    # help.xero.com Settings_ChartofAccountsArchive: "you can't restore a deleted account".
    books = chart(RENTAL, Account("4095", "Old Rental Revenue", "REVENUE", status="DELETED"),
                  Account("4096", "Old Rental Revenue", "REVENUE", status="ARCHIVED"))
    deleted = check_line(line("rental", "4095"), books)
    assert deleted is not None
    assert (deleted.kind, deleted.category, deleted.account_code) == (
        ErrorKind.ARCHIVED_ACCOUNT, "rental", "4095")
    assert deleted.message == (
        "Account Numbers > rental: account 4095 \"Old Rental Revenue\" was deleted in Xero for"
        " Demo Rentals, and Xero cannot restore a deleted account. Create a new account in"
        " Xero's chart of accounts and use its code, or change it to an active account"
        " (perhaps 4000 \"Rental Revenue\").")
    archived = check_line(line("rental", "4096"), books)
    assert archived is not None and archived.kind is ErrorKind.ARCHIVED_ACCOUNT
    assert archived.message == (
        "Account Numbers > rental: account 4096 \"Old Rental Revenue\" is archived in Xero for"
        " Demo Rentals. Restore it in Xero (Chart of accounts, Archive tab), or change it to"
        " an active account (perhaps 4000 \"Rental Revenue\").")


def test_a_revenue_entry_on_a_bank_account_is_pointed_at_revenue_accounts() -> None:
    bank = Account("090", "Rental Bank", "BANK")
    error = check_line(line("rental", "090"), chart(bank, CASH, RENTAL))
    assert error is not None
    assert (error.kind, error.category, error.account_code) == (
        ErrorKind.BANK_ACCOUNT, "rental", "090")
    assert error.message == (
        "Account Numbers > rental: account 090 \"Rental Bank\" is a bank account; Xero does"
        " not accept it in manual journals. Use another account instead (perhaps 4000"
        " \"Rental Revenue\").")
    lonely = check_line(line("rental", "090"), chart(bank, CASH))
    assert lonely is not None and lonely.message.endswith(
        " Create an account of the right kind in Xero and use its code instead.")


def test_a_tender_on_a_system_account_is_pointed_at_a_clearing_account() -> None:
    # Accounts receivable is refused in manual journals (help.xero.com Chart-LockedSystem).
    debtors = Account("1100", "Accounts Receivable", "CURRENT", system_account="debtors")
    error = check_line(line("cash", "1100"), chart(debtors, RENTAL, CASH))
    assert error is not None
    assert (error.kind, error.category, error.account_code) == (
        ErrorKind.SYSTEM_ACCOUNT, "cash", "1100")
    assert error.message == (
        "Account Numbers > cash: account 1100 \"Accounts Receivable\" is Xero's system"
        " account (debtors); Xero does not accept it in manual journals. Use a clearing"
        " account instead, for example 1210 \"Undeposited Cash\".")
    for category in ("cash", "no-such-entry"):
        bare = check_line(line(category, "1100"), chart(debtors, RENTAL))
        assert bare is not None and bare.message.endswith(
            " Create a clearing account (type Current Asset) in Xero and use its code"
            " instead.")
    assert check_line(line("cash", "1210"), chart(CASH)) is None
    realised = Account("1", "Realised Gains", "CURRENT", system_account="REALISEDCURRENCYGAIN")
    assert check_line(line("cash", "1"), chart(realised)) is None


def test_the_clearing_account_suggested_shares_the_entrys_words_first() -> None:
    visa = Account("1230", "Card Clearing Visa", "CURRENT")
    suspense = Account("1250", "Suspense", "CURRENT")
    undeposited = Account("1260", "Undeposited Funds", "CURRENT")
    other = Account("1270", "Prepaid Rent", "CURRENT")
    bank = Account("090", "Visa Bank", "BANK")
    archived = Account("1231", "Visa Clearing Old", "CURRENT", status="ARCHIVED")
    assert suggest_clearing_account("visa", chart(bank, archived, other, suspense, visa,
                                                  undeposited)) == visa
    assert suggest_clearing_account("cash", chart(other, suspense, undeposited)) == undeposited
    assert suggest_clearing_account("cash", chart(other, suspense)) == suspense
    assert suggest_clearing_account("cash", chart(other, Account("9", "Rent", "CURRENT"))) \
        == other  # a tie: the first in Xero's order
    cheques = Account("1220", "Cheques and Checks on hand", "CURRENT")
    assert suggest_clearing_account("checks", chart(other, cheques)) == cheques
    assert suggest_clearing_account("cash", chart(bank, archived, RENTAL)) is None
    # Words are split at punctuation: "Visa/MasterCard" holds "visa".
    cards = Account("1240", "Cards: Visa/MasterCard", "CURRENT")
    assert suggest_clearing_account("visa", chart(suspense, cards)) == cards


def test_similar_accounts_are_of_the_entrys_class_and_the_refused_accounts_type() -> None:
    tax = Account("2210", "Rental Tax Payable", "CURRLIAB")
    other = Account("4100", "Other Revenue", "OTHERINCOME")
    rental = Account("4000", "Rental Income", "REVENUE")
    old = Account("4095", "Rental Income", "SALES", status="ARCHIVED")
    sales = Account("4200", "Rental Sales Income", "SALES")
    books = chart(tax, other, rental, old, sales)
    assert similar_accounts("4095", "rental", books) == [sales]  # the archived one's type
    assert similar_accounts("9999", "rental", books) == [rental, sales]
    assert similar_accounts("9999", "rental", books, limit=1) == [rental]
    assert similar_accounts("9999", "rental-tax", books) == [tax]
    assert {a.code for a in similar_accounts("9999", "rental/Excavators", books)} == {
        "4000", "4200"}
    # An entry that is none of Account Numbers' accepts any class.
    assert similar_accounts("9999", "rental payable", books)[0] == tax
    assert similar_accounts("4000", "zzz", chart(rental)) == []
    three = chart(rental, sales, Account("4300", "Rental Income Tools", "REVENUE"))
    assert len(similar_accounts("9999", "rental", three)) == 2
    # An archived account's own name guides, not the entry's.
    hire = Account("4400", "Equipment Hire Income", "REVENUE")
    gone = Account("4401", "Equipment Hire", "REVENUE", status="ARCHIVED")
    assert similar_accounts("4401", "rental", chart(rental, hire, gone))[0] == hire
    # A name alike in spelling only (a ratio of 0.56) is still a suggestion.
    labor = Account("4500", "Labor Income", "REVENUE")
    assert similar_accounts("9999", "labour", chart(labor)) == [labor]
    # Nothing alike enough is no suggestion.
    assert similar_accounts("9999", "fuel", chart(Account("1", "Qwerty", "REVENUE"))) == []


def test_an_entry_posting_to_an_account_of_another_class_is_a_warning() -> None:
    tax = Account("2210", "Sales Tax Payable", "CURRLIAB")
    books = chart(CASH, RENTAL, tax)
    warning = unusual_account(line("rental", "2210"), books)
    assert warning is not None
    assert (warning.kind, warning.category, warning.account_code) == (
        ErrorKind.VALIDATION, "rental", "2210")
    assert warning.message == (
        "Account Numbers > rental: account 2210 \"Sales Tax Payable\" is a liability account;"
        " this entry usually posts to a revenue account (perhaps 4000 \"Rental Revenue\")."
        " Xero will accept it.")
    both = unusual_account(line("discounts", "2210"), books)
    assert both is not None and "usually posts to an expense or a revenue account" \
        in both.message
    odd = unusual_account(line("rental", "1"), chart(Account("1", "Odd", "ODD",
                                                             account_class="WEIRD")))
    assert odd is not None and odd.message.startswith(
        "Account Numbers > rental: account 1 \"Odd\" is weird account;")
    for fine in (line("rental", "4000"), line("no-entry", "2210"), line("rental", "9"),
                 line("cash", "1210")):
        assert unusual_account(fine, books) is None
    bank = chart(Account("090", "Bank", "BANK"))
    assert unusual_account(line("rental", "090"), bank) is None  # refused, not unusual


# --- tax rates and tracking ---

GST = TaxRate("OUTPUT2", "GST on Income", Decimal("15"), applies_to=frozenset({"REVENUE"}))
INPUT = TaxRate("INPUT2", "GST on Expenses", Decimal("15"),
                applies_to=frozenset({"EXPENSE", "ASSET"}))
OLD = TaxRate("OLD", "Old GST", Decimal("12.5"), status="DELETED",
              applies_to=frozenset({"REVENUE"}))
GST2 = TaxRate("OUTPUT3", "GST 9%", Decimal("9"), applies_to=frozenset({"REVENUE"}))
TAX_BOOKS = chart(CASH, RENTAL, tax_rates={r.tax_type: r for r in (GST, INPUT, OLD)})


def _tax_message(problem: str) -> str:
    return (f"Account Numbers > tax rates > rental: {problem}. Choose an active tax rate"
            " that Xero allows on that account, or change the account.")


def test_a_tax_rate_must_exist_be_active_and_apply_to_the_accounts_class() -> None:
    # developer.xero.com api/accounting/taxrates: the CanApplyTo… flags; Xero answers
    # "The TaxType code 'T' cannot be used with account code 'X'." otherwise.
    for fine in ("OUTPUT2", "NONE", None, ""):
        assert check_tax_type(line("rental", "4000", tax_type=fine), TAX_BOOKS) is None
    unknown = check_tax_type(line("rental", "4000", tax_type="OUTPUT9"), TAX_BOOKS)
    assert unknown is not None
    assert (unknown.kind, unknown.category, unknown.account_code) == (
        ErrorKind.TAX_TYPE, "rental", "4000")
    assert unknown.message == _tax_message(
        "tax rate OUTPUT9 does not exist in Xero for Demo Rentals (for account 4000:"
        " OUTPUT2 \"GST on Income\")")
    deleted = check_tax_type(line("rental", "4000", tax_type="OLD"), TAX_BOOKS)
    assert deleted is not None and deleted.message == _tax_message(
        "tax rate OLD \"Old GST\" is deleted in Xero")
    wrong = check_tax_type(line("rental", "4000", tax_type="INPUT2"), TAX_BOOKS)
    assert wrong is not None and wrong.kind is ErrorKind.TAX_TYPE
    assert wrong.message == _tax_message(
        "tax rate INPUT2 \"GST on Expenses\" cannot be used on account 4000 \"Rental"
        " Revenue\" (revenue)")
    two = chart(RENTAL, tax_rates={r.tax_type: r for r in (GST, INPUT, OLD, GST2)})
    both = check_tax_type(line("rental", "4000", tax_type="X"), two)
    assert both is not None and both.message == _tax_message(
        "tax rate X does not exist in Xero for Demo Rentals (for account 4000: OUTPUT2 \"GST on"
        " Income\", OUTPUT3 \"GST 9%\")")
    nothing_fits = chart(RENTAL, tax_rates={"INPUT2": INPUT}, name="")
    none_known = check_tax_type(line("rental", "4000", tax_type="X"), nothing_fits)
    assert none_known is not None
    assert none_known.message == _tax_message("tax rate X does not exist in Xero")


def test_an_account_without_a_class_is_judged_by_the_class_of_its_type() -> None:
    # A chart kept from before Class was read has none: the type says it (REVENUE).
    unclassed = Account("4000", "Rental Revenue", "REVENUE")
    books = chart(unclassed, tax_rates={r.tax_type: r for r in (GST, INPUT)})
    assert check_tax_type(line("rental", "4000", tax_type="OUTPUT2"), books) is None
    wrong = check_tax_type(line("rental", "4000", tax_type="INPUT2"), books)
    assert wrong is not None and wrong.message.endswith(
        "(revenue). Choose an active tax rate that Xero allows on that account, or change"
        " the account.")


def test_tax_rates_are_judged_only_when_read_and_on_known_accounts() -> None:
    assert check_tax_type(line("rental", "4000", tax_type="X"), chart(RENTAL)) is None
    assert check_tax_type(line("rental", "9", tax_type="X"), TAX_BOOKS) is None


REGION = TrackingCategory("Region", options={"North": "ACTIVE", "South": "ARCHIVED"},
                          category_id="cat-1")
TRACKED = chart(CASH, RENTAL, tracking={
    "region": REGION,
    "old": TrackingCategory("Old", status="ARCHIVED", options={"A": "ACTIVE"},
                            category_id="cat-2"),
    "noid": TrackingCategory("NoId"),
})


def test_tracking_options_are_found_whatever_their_case() -> None:
    assert REGION.option_status(" north ") == "ACTIVE"
    assert REGION.option_status("SOUTH") == "ARCHIVED"
    assert REGION.option_status("East") is None
    assert TrackingCategory("C", options={"ABC": "ACTIVE"}).option_status("abc") == "ACTIVE"


def test_tracking_must_name_an_active_category_and_option() -> None:
    where = ("Create it in Xero (Accounting > Advanced > Tracking categories), or change the"
             " tracking in Account Numbers setup.")
    assert check_tracking(line("rental", "4000", tracking=[Tracking(name=" REGION ",
                                                                    option="north")]),
                          TRACKED) == []
    assert check_tracking(line("rental", "4000", tracking=[Tracking(name="X", option="Y")]),
                          chart(RENTAL)) == []
    problems = check_tracking(line("rental", "4000", tracking=[
        Tracking(name="Area", option="A"), Tracking(name="Old", option="A")]), TRACKED)
    assert [p.kind for p in problems] == [ErrorKind.TRACKING] * 2
    assert [p.message for p in problems] == [
        f"Account Numbers > tracking: the tracking category \"Area\" does not exist in Xero"
        f" for Demo Rentals. {where}",
        f"Account Numbers > tracking: the tracking category \"Old\" is archived in Xero for"
        f" Demo Rentals. {where}",
    ]
    options = check_tracking(line("rental", "4000", tracking=[
        Tracking(name="region", option="East"), Tracking(name="region", option="South")]),
        TRACKED)
    assert [p.message for p in options] == [
        f"Account Numbers > tracking: the option \"{option}\" of tracking category \"Region\""
        f" {state} in Xero for Demo Rentals. Create it in Xero (Accounting > Advanced >"
        " Tracking categories > Region > Add option), or change the tracking option in"
        " Account Numbers setup."
        for option, state in (("East", "does not exist"), ("South", "is archived"))]


def test_missing_options_are_those_of_active_categories_xero_can_add_to() -> None:
    def day(*tracking: Tracking) -> Journal:
        return journal(line("cash", "1210", tracking=list(tracking)),
                       line("rental", "4000", tracking=list(tracking)))

    days = [day(Tracking(name="Region", option="East"), Tracking(name="Old", option="B")),
            day(Tracking(name=" region ", option="West"), Tracking(name="NoId", option="C")),
            day(Tracking(name="Region", option="north"), Tracking(name="Area", option="D")),
            day(Tracking(name="Region", option="South"))]
    assert missing_options(days, TRACKED) == [("cat-1", "East"), ("cat-1", "West")]
    assert missing_options(days, chart(CASH, RENTAL)) == []


# --- the whole journal ---

def test_a_journal_is_checked_line_by_line_then_as_a_whole() -> None:
    books = chart(CASH, RENTAL, base_currency="NZD", end_of_year_lock_date=date(2026, 12, 31),
                  tax_rates={"OUTPUT2": GST}, tracking={})
    area = [Tracking(name="Area", option="North")]
    errors = check_journal(journal(
        line("cash", "9", "10", tax_type="BAD", tracking=area),
        line("rental", "4000", "-5", tax_type="BAD", tracking=area),
        currency="USD"), books)
    assert [(e.kind, e.account_code) for e in errors] == [
        (ErrorKind.CURRENCY, None),
        (ErrorKind.UNKNOWN_ACCOUNT, "9"),  # its tax rate is not judged on no account
        (ErrorKind.TRACKING, None),  # said once for both lines
        (ErrorKind.TAX_TYPE, "4000"),
        (ErrorKind.UNBALANCED, None),
        (ErrorKind.LOCKED_PERIOD, None),
    ]


def test_a_tax_coded_journal_is_balanced_by_xeros_tax_not_by_its_lines() -> None:
    books = chart(CASH, RENTAL, tax_rates={"OUTPUT2": GST}, tracking={})
    taxed = journal(line("cash", "1210", "115"), line("rental", "4000", "-100", "OUTPUT2"),
                    tax=TaxCheck(pos_tax=money("15")))
    assert check_journal(taxed, books) == []
    wrong = journal(line("cash", "1210", "115"), line("rental", "4000", "-100", "OUTPUT2"),
                    tax=TaxCheck(pos_tax=money("20")))
    assert [e.kind for e in check_journal(wrong, books)] == [ErrorKind.TAX_DIFFERENCE]


@given(st.integers(0, 3), st.integers(1, 10**6))
@settings(max_examples=examples(50))
def test_every_line_is_checked(bad_at: int, cents: int) -> None:
    amounts = [Decimal(cents) / 100] * 3 + [-3 * Decimal(cents) / 100]
    codes = ["1210"] * 3 + ["4000"]
    codes[bad_at] = "777"
    lines = [line("rental" if c == "4000" else "cash", c, str(a)) for c, a in
             zip(codes, amounts, strict=True)]
    errors = check_journal(journal(*lines), chart(CASH, RENTAL))
    assert [(e.kind, e.account_code) for e in errors] == [(ErrorKind.UNKNOWN_ACCOUNT, "777")]
