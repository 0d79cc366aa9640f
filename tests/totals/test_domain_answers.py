"""Totals' pure rules pinned value for value: the example day line by line, every
problem a close can be refused with, the setup's checks and the day's messages."""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from services.totals.domain.codes import TagError, expand_code
from services.totals.domain.day import (
    DayState,
    DayStatus,
    Decision,
    apply_failed,
    apply_succeeded,
    decide_close,
    decide_post,
    message,
)
from services.totals.domain.examples import example_store_setup, example_totals
from services.totals.domain.journal import BuiltDay, TotalsRefused, build_day
from services.totals.domain.setup import StoreSetup
from services.totals.domain.totals import DayTotals
from shared.contracts.events import (
    ErrorKind,
    GlPostingFailed,
    GlPostingSucceeded,
    JournalLine,
    JournalStatus,
    PostingError,
)

DAY = date(2026, 11, 27)
JOURNAL = UUID("6f1c0d4e-8a43-4a8e-9d1e-3b7f1f0c2a55")
EXAMPLE_LINES = [
    ("rental", "4000", "-1250.00", "Rental revenue"),
    ("sales", "4010", "-310.50", "Sales revenue"),
    ("damage-waiver", "4020", "-125.00", "Damage waiver revenue"),
    ("delivery", "4030", "-90.00", "Delivery and pickup revenue"),
    ("fuel", "4050", "-42.75", "Fuel revenue"),
    ("fees", "4060", "-15.00", "Fees revenue"),
    ("discounts", "4900", "50.00", "Discounts"),
    ("rental-tax/County", "2200", "-87.50", "Rental tax - County"),
    ("sales-tax/State", "2210", "-24.84", "Sales tax - State"),
    ("damage-waiver-tax", "2220", "-8.75", "Damage waiver tax"),
    ("cash", "1210", "462.34", "Cash - net of refunds"),
    ("check", "1220", "300.00", "Checks - net of refunds"),
    ("visa", "1230", "700.00", "Visa - net of refunds"),
    ("mastercard", "1230", "350.00", "MasterCard - net of refunds"),
    ("discover", "1230", "90.75", "Discover - net of refunds"),
    ("amex", "1240", "210.00", "American Express - net of refunds"),
    ("debit", "1250", "140.00", "Debit cards - net of refunds"),
    ("on-account", "1300", "150.00", "Charges on account - net of refunds"),
    ("ar-payments", "1300", "-200.00", "Payments on account"),
    ("deposits-held", "2300", "-300.00", "Deposits - taken"),
    ("deposits-held", "2300", "100.00", "Deposits - applied"),
    ("deposits-held", "2300", "50.00", "Deposits - refunded"),
    ("deposits-held", "2300", "25.00", "Deposits - forfeited"),
    ("deposits-forfeited", "4070", "-25.00", "Forfeited deposits"),
    ("open-contracts", "2310", "-150.00", "Open contract payments - taken"),
    ("over-short", "6900", "1.25", "Cash over/short"),  # the drawer 1.25 short: a debit
]


def test_the_example_day_line_by_line() -> None:
    day = build_day("12", example_store_setup(), example_totals())
    assert [(line.category, line.account_code, str(line.amount), line.description)
            for line in day.lines] == EXAMPLE_LINES
    assert all(line.tracking == [] and line.tax_type is None for line in day.lines)


def test_every_problem_of_a_close_at_once_each_where_it_is() -> None:
    totals = DayTotals.model_validate({
        "currency": "NZD",
        "revenue": [{"category": "rental", "item_category": "Lifts", "amount": "10"}],
        "tenders": [{"type": "debit", "received": "9"}],
    })
    setup = StoreSetup(accounts={"debit": "CC", "rental": "4000-#"},
                       tracking=[{"name": "Store", "option": "S-{Class}"}])
    with pytest.raises(TotalsRefused) as refused:
        build_day("999", setup, totals)
    assert [p.as_dict() for p in refused.value.problems] == [
        {"loc": ["path", "store_id"], "type": "consolidated-store", "category": None,
         "msg": "store 999 holds the consolidated totals of all stores: a report, never a"
         " posting (posting it as well as each store would count every sale twice)"},
        {"loc": ["body", "currency"], "type": "currency", "category": None,
         "msg": "totals are in NZD but the store's setup says USD"},
        {"loc": ["setup", "tracking", 0, "option"], "type": "bad-code", "category": None,
         "msg": "tracking option 'S-{Class}': uses {Class} but the setup has no store_class"},
        {"loc": ["setup", "accounts", "rental"], "type": "bad-code",
         "category": "rental/Lifts",
         "msg": "account code '4000-#' for rental: 1 '#' cannot hold store number 999"
         " (3 digits)"},
        {"loc": ["body", "tenders", 0], "type": "unmapped", "category": "debit",
         "msg": "debit is set to CC (post with credit cards) but visa has no account code"},
        # The drawer's difference is over/short's to post (the setup maps no code for it).
        {"loc": ["body", "over_short"], "type": "unmapped", "category": "over-short",
         "msg": "Cash over/short has an amount (1.00) but no account code: set 'over-short'"
         " in the Account Numbers setup"},
    ]
    assert str(refused.value) == "; ".join(p.message for p in refused.value.problems)


def test_an_unmapped_figure_names_its_amount_and_the_entries_to_set() -> None:
    totals = DayTotals.model_validate({
        "revenue": [{"category": "labour", "item_category": "Setup", "amount": "10.00"}],
        "tenders": [{"type": "cash", "received": "10.00"}],
    })
    with pytest.raises(TotalsRefused) as refused:
        build_day("12", StoreSetup(accounts={"cash": "1210"}), totals)
    [problem] = refused.value.problems
    assert (problem.loc, problem.kind, problem.category, problem.message) == (
        ("body", "revenue", 0, "amount"), "unmapped", "labour/Setup",
        "Labour revenue - Setup has an amount (10.00) but no account code: set"
        " 'labour/Setup' or 'labour' in the Account Numbers setup")


def test_tracking_and_tags_are_expanded_per_store() -> None:
    setup = StoreSetup(accounts={"cash": "1210-{Class}", "rental": "4000-##"},
                       store_class="N", tracking=[{"name": "Store", "option": "S{Store}"}])
    totals = DayTotals.model_validate({
        "revenue": [{"category": "rental", "amount": "10.00"}],
        "tenders": [{"type": "cash", "received": "10.00"}]})
    day = build_day("7", setup, totals)
    assert [(line.account_code, [(t.name, t.option) for t in line.tracking])
            for line in day.lines] == [("4000-07", [("Store", "S7")]),
                                      ("1210-N", [("Store", "S7")])]
    assert day.lines[0].amount == Decimal("-10.00")


@pytest.mark.parametrize(("template", "store", "error"), [
    ("4000-##", "123", "2 '#' cannot hold store number 123 (3 digits)"),
    ("4000{Class}", "1", "uses {Class} but the setup has no store_class"),
    ("4000{Foo}", "1", "unknown tag {Foo}: use #, {Store} or {Class}"),
    ("12345678-###", "1", "becomes '12345678-001', longer than Xero's 10 characters"),
])
def test_a_code_that_cannot_expand_says_why(template: str, store: str, error: str) -> None:
    with pytest.raises(TagError) as caught:
        expand_code(template, store, None)
    assert str(caught.value) == error


def test_the_setup_names_each_bad_entry_where_it_is() -> None:
    with pytest.raises(ValidationError) as caught:
        StoreSetup(accounts={"rental": " ", "cash": "CC", "visa": "x" * 31, "amex": "1{Foo}",
                             "check": "a b", "bogus": "1", "cash/x": "1", "rental/ ": "1"},
                   timezone="Mars/Base")
    assert [(e["loc"], e["msg"]) for e in caught.value.errors()] == [
        (("accounts", "rental"), "empty account code"),
        (("accounts", "cash"), "CC (post with credit cards) is for debit only"),
        (("accounts", "visa"), "account code longer than 30 characters"),
        (("accounts", "amex"), "unknown tag {Foo}: use #, {Store} or {Class}"),
        (("accounts", "check"),
         "account code 'a b' may hold letters, digits, . _ - and the tags only"),
        (("accounts", "bogus"),
         "unknown category 'bogus'; known: rental, sales, damage-waiver, delivery, labour,"
         " fuel, fees, other-revenue, rental-tax, sales-tax, damage-waiver-tax, cash, check,"
         " visa, mastercard, discover, amex, debit, on-account, other-tender, discounts,"
         " ar-payments, deposits-held, deposits-forfeited, open-contracts, over-short,"
         " tax-rounding"),
        (("accounts", "cash/x"),
         "'cash' cannot be split by '/': only revenue and tax categories can"),
        (("accounts", "rental/ "), "empty split after '/'"),
        (("timezone",), "Value error, unknown time zone 'Mars/Base' (use an IANA name)"),
    ]
    assert StoreSetup(accounts={"cash": "1" * 30}).accounts == {"cash": "1" * 30}
    ok = StoreSetup(accounts={"debit": "CC", "rental": " 4000-{Store} ", "cash": "1"})
    assert ok.accounts == {"debit": "CC", "rental": "4000-{Store}", "cash": "1"}


def test_each_refused_entry_carries_what_was_sent_and_its_kind() -> None:
    with pytest.raises(ValidationError) as caught:
        StoreSetup(accounts={"cash": "12 34"}, tax_rates={"bogus": "OUTPUT2"})
    assert [(e["type"], e["loc"], e["input"]) for e in caught.value.errors()] == [
        ("account_code", ("accounts", "cash"), "12 34"),  # the code
        ("tax_category", ("tax_rates", "bogus"), "bogus"),  # the entry
    ]


@pytest.mark.parametrize(("status", "retryable", "text"), [
    (DayStatus.NOT_POSTED, None,
     "Closed, not posted (automatic posting is off): reprint and post to Xero."),
    (DayStatus.PENDING, None, "Sent to Xero; waiting for the result."),
    (DayStatus.POSTED, None, f"Posted to Xero (journal {JOURNAL})."),
    (DayStatus.WAITING_FOR_NEW_KEY, None,
     "The Xero connection needs a new key: open the Account Numbers setup, connect to Xero"
     " again and paste the new 2RF: key. The day posts then."),
    (DayStatus.NOTHING_TO_POST, None, "Nothing to post for this day."),
])
def test_what_the_pos_shows_for_each_status(status: DayStatus, retryable: bool | None,
                                            text: str) -> None:
    state = DayState(1, "f", status, journal_id=JOURNAL, errors=({}, {}), retryable=retryable)
    assert message(state) == text


def _built(fingerprint: str, lines: bool = True) -> BuiltDay:
    line = JournalLine(category="cash", account_code="1210", amount=Decimal("1.00"))
    return BuiltDay((line,) if lines else (), JournalStatus.POSTED, fingerprint)


def test_closing_decisions_say_whether_anything_changed() -> None:
    first = decide_close(None, _built("a"), auto_post=True)
    assert (first.outcome, first.state.status, first.publish, first.changed) == (
        "closed", DayStatus.PENDING, True, True)  # a connection is assumed fine
    same = decide_close(first.state, _built("a"), auto_post=True)
    assert (same.outcome, same.state, same.publish, same.changed) == (
        "unchanged", first.state, False, False)


def test_an_empty_amendment_of_a_day_that_reached_xero_is_refused() -> None:
    pending = decide_close(None, _built("a"), auto_post=True).state
    refused = decide_close(pending, _built("e", lines=False), auto_post=True)
    assert (refused.outcome, refused.state, refused.publish, refused.changed) == (
        "refused-empty-amendment", pending, False, False)
    posted = replace(pending, status=DayStatus.FAILED, posted_revision=1)
    assert decide_close(posted, _built("e", lines=False), True).outcome == \
        "refused-empty-amendment"
    never_sent = decide_close(None, _built("a"), auto_post=False).state
    emptied = decide_close(never_sent, _built("e", lines=False), auto_post=True)
    assert (emptied.outcome, emptied.state.status, emptied.publish) == (
        "amended", DayStatus.NOTHING_TO_POST, False)
    assert decide_close(None, _built("e", lines=False), True).state.status == \
        DayStatus.NOTHING_TO_POST


def test_each_unmapped_figure_points_at_its_place_in_the_totals() -> None:
    with pytest.raises(TotalsRefused) as refused:
        build_day("12", StoreSetup(accounts={}), example_totals())
    assert [(p.loc, str(p.category)) for p in refused.value.problems] == [
        *((("body", "revenue", i, "amount"), c) for i, c in enumerate(
            ["rental", "sales", "damage-waiver", "delivery", "fuel", "fees"])),
        (("body", "discounts"), "discounts"),
        (("body", "taxes", 0, "amount"), "rental-tax/County"),
        (("body", "taxes", 1, "amount"), "sales-tax/State"),
        (("body", "taxes", 2, "amount"), "damage-waiver-tax"),
        *((("body", "tenders", i), c) for i, c in enumerate(
            ["cash", "check", "visa", "mastercard", "discover", "amex", "debit",
             "on-account"])),
        (("body", "ar_payments"), "ar-payments"),
        (("body", "deposits", "taken"), "deposits-held"),
        (("body", "deposits", "applied"), "deposits-held"),
        (("body", "deposits", "refunded"), "deposits-held"),
        (("body", "deposits", "forfeited"), "deposits-held"),
        (("body", "deposits", "forfeited"), "deposits-forfeited"),
        (("body", "open_contracts", "taken"), "open-contracts"),
        (("body", "over_short"), "over-short"),
    ]


def test_posting_from_a_reprint() -> None:
    posted = DayState(1, "a", DayStatus.POSTED, posted_revision=1, journal_id=JOURNAL)
    again = decide_post(posted, _built("a"))
    assert (again.outcome, again.state, again.publish, again.changed) == (
        "already-posted", posted, False, False)
    changed = decide_post(posted, _built("b"), connection_ok=True)
    assert (changed.outcome, changed.state.revision, changed.state.status, changed.publish) == (
        "queued", 2, DayStatus.PENDING, True)
    emptied = decide_post(DayState(1, "a", DayStatus.NOT_POSTED), _built("e", lines=False))
    assert (emptied.outcome, emptied.state.status) == ("nothing-to-post",
                                                       DayStatus.NOTHING_TO_POST)
    nothing = DayState(1, "e", DayStatus.NOTHING_TO_POST)
    assert decide_post(nothing, _built("e", lines=False)) == Decision(
        "nothing-to-post", nothing, changed=False)
    held = decide_post(DayState(1, "a", DayStatus.FAILED, errors=({},), retryable=True),
                       _built("a"), connection_ok=False)
    assert (held.outcome, held.state.status, held.state.errors, held.publish) == (
        "queued", DayStatus.WAITING_FOR_NEW_KEY, (), False)


def test_outcomes_write_what_the_day_shows() -> None:
    pending = DayState(2, "b", DayStatus.FAILED, errors=({},), retryable=True)
    common = {"correlation_id": "12:d", "store_id": "12", "business_date": DAY,
              "tenant_id": JOURNAL}
    replaced = uuid4()
    done = apply_succeeded(pending, GlPostingSucceeded(
        **common, revision=2, journal_id=JOURNAL, replaced_journal_id=replaced))
    assert done == DayState(2, "b", DayStatus.POSTED, posted_revision=2, journal_id=JOURNAL,
                            replaced_journal_id=replaced, errors=(), retryable=None)
    error = PostingError(kind=ErrorKind.TAX_TYPE, message="m", category="cash")
    failed = apply_failed(replace(pending, status=DayStatus.PENDING), GlPostingFailed(
        **common, revision=2, errors=[error], retryable=False))
    assert failed is not None
    assert failed.errors == ({"kind": "tax-type", "category": "cash", "account_code": None,
                              "message": "m", "xero_message": None, "retryable": False},)


@pytest.mark.parametrize(("amount", "error"), [
    ("1000000000000", "is too large"), ("-1000000000000", "is too large"),
])
def test_figures_past_reason_are_refused(amount: str, error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        DayTotals.model_validate({"discounts": amount})
    assert DayTotals.model_validate({"discounts": "999999999999.99"}).discounts == \
        Decimal("999999999999.99")
