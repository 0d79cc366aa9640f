"""Posting's pure rules, pinned value for value: how Xero's JSON is read, what each
problem tells the store manager, what goes to Xero and what comes back as an event."""

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from services.posting.domain.batching import chunks, group_by
from services.posting.domain.chart import (
    Account,
    Chart,
    chart_from_xero,
    check_journal,
    parse_xero_date,
    suggest_clearing_account,
)
from services.posting.domain.model import (
    Posting,
    State,
    failed,
    give_up_error,
    journal_payload,
    succeeded,
    superseded_error,
    total,
)
from services.posting.domain.outcome import (
    JournalResult,
    categories_of,
    is_account_error,
    judge,
    result_from_xero,
    xero_error,
)
from services.posting.domain.reference import (
    idempotency_key,
    narration_filter,
    narration_with_reference,
    posting_reference,
)
from shared.contracts.events import (
    ErrorKind,
    Journal,
    JournalLine,
    JournalStatus,
    PostingError,
    StoreTotalsClosed,
    Tracking,
    Trigger,
)

DAY = date(2026, 11, 24)
CHART = Chart(accounts={a.code: a for a in [
    Account("090", "Business Bank Account", "BANK"),
    Account("1100", "Accounts Receivable", "CURRENT", system_account="DEBTORS"),
    Account("1210", "Undeposited Cash", "CURRENT"),
    Account("1230", "Card Clearing Visa", "CURRENT"),
    Account("4000", "Rental Revenue", "REVENUE"),
    Account("4095", "Old Rental Revenue", "REVENUE", status="ARCHIVED"),
]}, period_lock_date=date(2026, 10, 31), organisation_name="Demo Rentals (US)")
LINES = [JournalLine(category="cash", account_code="1210", amount=Decimal("1.00")),
         JournalLine(category="rental", account_code="4000", amount=Decimal("-1.00"))]


# --- Xero's JSON read ---

def test_the_chart_is_read_field_by_field_from_xeros_json() -> None:
    chart = chart_from_xero([
        {"Code": "4000", "Name": "Rental", "Type": "REVENUE", "Status": "ACTIVE",
         "TaxType": "TAX001", "SystemAccount": ""},
        {"Code": "ar1", "Name": "Receivable", "Type": "CURRENT", "SystemAccount": "DEBTORS"},
        {"Name": "A bank account with no code", "Type": "BANK"},
        {"Code": "9", "Status": "ARCHIVED"},
    ], {"Name": "Demo", "PeriodLockDate": "/Date(1795132800000+0000)/",
        "EndOfYearLockDate": "2025-12-31T00:00:00"})
    assert chart == Chart(
        accounts={
            "4000": Account("4000", "Rental", "REVENUE", "ACTIVE", None, "TAX001"),
            "AR1": Account("ar1", "Receivable", "CURRENT", "ACTIVE", "DEBTORS", None),
            "9": Account("9", "", "", "ARCHIVED", None, None),
        },
        period_lock_date=date(2026, 11, 20),
        end_of_year_lock_date=date(2025, 12, 31),
        organisation_name="Demo",
    )
    assert chart.account("Ar1") == chart.accounts["AR1"]
    assert chart.lock_date == date(2025, 12, 31)  # the end of year lock binds advisers too
    assert chart_from_xero([], None) == Chart()


@pytest.mark.parametrize(("value", "day"), [
    ("/Date(1795132800000+0000)/", date(2026, 11, 20)),
    ("/Date(1795132800000-0500)/", date(2026, 11, 19)),  # the organisation's zone
    ("/Date(1795132800000)/", date(2026, 11, 20)),
    ("2026-11-24T00:00:00", date(2026, 11, 24)),
    ("2026-11-24", date(2026, 11, 24)),
    (None, None),
    ("", None),
])
def test_xero_dates_in_each_of_their_forms(value: str | None, day: date | None) -> None:
    assert parse_xero_date(value) == day


def test_a_journal_result_is_read_field_by_field() -> None:
    journal_id = uuid4()
    raw = {"Narration": "N", "ManualJournalID": str(journal_id), "Status": "POSTED",
           "StatusAttributeString": "WARNING",
           "ValidationErrors": [{"Message": "e1"}, {"Message": ""}],
           "Warnings": [{"Message": "w1"}],
           "JournalLines": [{"AccountCode": "1210"}, {}]}
    assert result_from_xero(raw) == JournalResult(
        "N", journal_id, "WARNING", ("e1",), ("w1",), "POSTED")


@pytest.mark.parametrize(("journal_id", "status"), [
    ("00000000-0000-0000-0000-000000000000", "ERROR"),  # Xero's nil id: not created
    ("not-a-uuid", "ERROR"),
    (None, "ERROR"),
])
def test_a_journal_xero_did_not_create_has_no_id(journal_id: str | None, status: str) -> None:
    result = result_from_xero({"ManualJournalID": journal_id})
    assert result == JournalResult("", None, status)
    assert not result.created


def test_created_means_an_id_and_no_errors() -> None:
    some = uuid4()
    assert JournalResult("n", some, "OK").created
    assert JournalResult("n", some, "WARNING").created
    assert not JournalResult("n", some, "ERROR").created
    assert not JournalResult("n", some, "OK", errors=("e",)).created
    assert result_from_xero({"ManualJournalID": str(some)}).status == "OK"


# --- what the manager is told ---

def _line(category: str, code: str) -> JournalLine:
    return JournalLine(category=category, account_code=code, amount=Decimal("1.00"))


@pytest.mark.parametrize(("category", "code", "kind", "message"), [
    ("rental", "4001", ErrorKind.UNKNOWN_ACCOUNT,
     "Account Numbers > rental: account code '4001' does not exist in Xero for Demo Rentals"
     " (US). Change it to an existing account code (perhaps 4000 \"Rental Revenue\"), or"
     " create the account in Xero's chart of accounts."),
    ("rental", "4095", ErrorKind.ARCHIVED_ACCOUNT,
     "Account Numbers > rental: account 4095 \"Old Rental Revenue\" is archived in Xero for"
     " Demo Rentals (US). Restore it in Xero (Chart of accounts, Archive tab), or change it"
     " to an active account (perhaps 4000 \"Rental Revenue\")."),
    ("cash", "090", ErrorKind.BANK_ACCOUNT,
     "Account Numbers > cash: account 090 \"Business Bank Account\" is a bank account; Xero"
     " does not accept it in manual journals. Use a clearing account instead, for example"
     " 1210 \"Undeposited Cash\"."),
    ("visa", "1100", ErrorKind.SYSTEM_ACCOUNT,
     "Account Numbers > visa: account 1100 \"Accounts Receivable\" is Xero's system account"
     " (debtors); Xero does not accept it in manual journals. Use a clearing account"
     " instead, for example 1230 \"Card Clearing Visa\"."),
])
def test_each_chart_problem_names_the_entry_and_the_fix(category: str, code: str,
                                                        kind: ErrorKind, message: str) -> None:
    journal = Journal(narration="n [r]", reference="r", date=DAY,
                      lines=[_line(category, code), _line("other", "1210")])
    assert check_journal(journal, CHART)[0] == PostingError(
        kind=kind, category=category, account_code=code, message=message)


def test_a_refused_account_without_a_clearing_account_to_suggest() -> None:
    chart = Chart(accounts={"090": Account("090", "Bank", "BANK")})
    journal = Journal(narration="n [r]", reference="r", date=DAY,
                      lines=[_line("cash", "090"), _line("x", "090")])
    assert check_journal(journal, chart)[0].message.endswith(
        " Create a clearing account (type Current Asset) in Xero and use its code instead.")
    assert "perhaps" not in check_journal(Journal(
        narration="n [r]", reference="r", date=DAY,
        lines=[_line("zzz", "777"), _line("zzz", "777")]), chart)[0].message


def test_the_clearing_account_suggested_matches_the_category_first() -> None:
    assert suggest_clearing_account("visa", CHART) == CHART.accounts["1230"]
    assert suggest_clearing_account("checks", CHART) == CHART.accounts["1210"]  # undeposited
    assert suggest_clearing_account("x", Chart()) is None


def test_a_day_the_end_of_year_lock_closes_names_it_and_where_to_move_it() -> None:
    chart = Chart(accounts=CHART.accounts, end_of_year_lock_date=date(2026, 10, 31),
                  organisation_name="Demo Rentals (US)")
    journal = Journal(narration="n [r]", reference="r", date=date(2026, 10, 31),
                      lines=[_line("cash", "1210"), _line("rental", "4000")])
    [*_, locked] = check_journal(journal, chart)
    assert locked == PostingError(
        kind=ErrorKind.LOCKED_PERIOD,
        message="2026-10-31 is on or before the end of year lock date in Xero for Demo"
        " Rentals (US) (2026-10-31), which binds every user, advisers too. Ask your"
        " accountant to move the end of year lock date in Xero (Settings > Advanced >"
        " Financial settings), then post the day again.")


def test_an_unbalanced_journal_names_both_sides_and_the_difference() -> None:
    journal = Journal(narration="n [r]", reference="r", date=DAY,
                      lines=[_line("cash", "1210"),
                             JournalLine(category="rental", account_code="4000",
                                         amount=Decimal("-0.50"))])
    assert check_journal(journal, CHART) == [PostingError(
        kind=ErrorKind.UNBALANCED,
        message="The day's journal does not balance: debits 1.00, credits 0.50 (difference"
        " 0.50). Check that every totals figure has an account code in Account Numbers"
        " setup, then reprint the day.")]


@pytest.mark.parametrize(("xero", "kind", "category", "code", "message"), [
    ("Account code '4001' is not a valid code for this document",
     ErrorKind.UNKNOWN_ACCOUNT, None, "4001",
     "Account Numbers setup: account code '4001' is not an account code Xero accepts here:"
     " change it to an existing account code."),
    ("Account code '4001' has been removed as it does not match a recognised account.",
     ErrorKind.LINE_DROPPED, None, "4001",
     "Account Numbers setup: account code '4001' Xero dropped this line because the code is"
     " not a recognised account, so the journal in Xero is incomplete: change the code to an"
     " existing account, then post the day again (the incomplete journal is voided then)."),
    ("The TaxType code 'TAX001' cannot be used with account code '1210'.",
     ErrorKind.TAX_TYPE, "cash", "1210",
     "Account Numbers > cash: account code '1210' tax type 'TAX001' cannot be used with this"
     " account in Xero: change the entry's tax type (NONE, or one Xero allows for the"
     " account) or its account code."),
    ("The total debits (100.00) must equal total credits (-10.00)",
     ErrorKind.UNBALANCED, None, None,
     "The day's journal does not balance in Xero: check that every totals figure has an"
     " account code in Account Numbers setup, then reprint the day."),
    ("Account code '1210' has been archived, or deleted. Each line item must reference a"
     " valid account.", ErrorKind.ARCHIVED_ACCOUNT, "cash", "1210",
     "Account Numbers > cash: account code '1210' is archived in Xero: use an active account."),
    ("Account code '1210' is a bank account", ErrorKind.BANK_ACCOUNT, "cash", "1210",
     "Account Numbers > cash: account code '1210' is a bank account: use a clearing account"
     " instead."),
    ("Account code '1210' is a system account", ErrorKind.SYSTEM_ACCOUNT, "cash", "1210",
     "Account Numbers > cash: account code '1210' is a Xero system account: use a clearing"
     " account."),
    ("Account code '1210' refused", ErrorKind.VALIDATION, "cash", "1210",
     "Account Numbers > cash: account code '1210' was refused by Xero."),
    ("Something else", ErrorKind.VALIDATION, None, None,
     "Xero refused the day's journal: Something else"),
])
def test_each_xero_message_becomes_an_error_naming_the_entry(
    xero: str, kind: ErrorKind, category: str | None, code: str | None, message: str
) -> None:
    assert xero_error(xero, LINES) == PostingError(
        kind=kind, category=category, account_code=code, message=message, xero_message=xero)


def test_judge_fails_on_errors_dropped_lines_and_a_missing_id() -> None:
    journal_id = uuid4()
    assert judge(JournalResult("n", journal_id, "OK", warnings=("Other warning",)), LINES) == []
    dropped = "Account code '9' has been removed as it does not match a recognised account."
    assert [e.kind for e in judge(JournalResult("n", journal_id, "WARNING",
                                                warnings=(dropped,)), LINES)] == \
        [ErrorKind.LINE_DROPPED]
    assert [e.kind for e in judge(JournalResult("n", journal_id, "ERROR",
                                                errors=("x", "y")), LINES)] == \
        [ErrorKind.VALIDATION, ErrorKind.VALIDATION]
    assert judge(JournalResult("n", None, "ERROR"), LINES) == [PostingError(
        kind=ErrorKind.VALIDATION,
        message="Xero did not create the journal and gave no reason; post the day again.",
        retryable=True)]


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_which_errors_mean_the_chart_may_be_stale(kind: ErrorKind) -> None:
    stale = {ErrorKind.UNKNOWN_ACCOUNT, ErrorKind.ARCHIVED_ACCOUNT, ErrorKind.BANK_ACCOUNT,
             ErrorKind.SYSTEM_ACCOUNT, ErrorKind.TAX_TYPE, ErrorKind.LINE_DROPPED,
             ErrorKind.LOCKED_PERIOD}
    assert is_account_error(PostingError(kind=kind, message="m")) == (kind in stale)


def test_categories_of_a_code_in_line_order_once_each() -> None:
    lines = [_line("cash", "1210"), _line("checks", "1210"), _line("cash", "1210"),
             _line("rental", "4000")]
    assert categories_of("1210", lines) == ["cash", "checks"]
    assert categories_of("x", lines) == []


# --- what goes to Xero, and the events that come back ---

def _posting(journal: Journal, attempts: int = 0) -> Posting:
    event = StoreTotalsClosed(
        correlation_id="12:2026-11-24", store_id="12", business_date=DAY, revision=2,
        trigger=Trigger.END_OF_DAY, connection_id=uuid4(), tenant_id=uuid4(), journal=journal)
    return Posting.of_event(event, 7, State.PENDING, attempts)


def test_a_journal_goes_to_xero_as_its_api_takes_it() -> None:
    journal = Journal(
        narration="Store 12 [glb:12:2026-11-24:2]", reference="glb:12:2026-11-24:2",
        date=DAY, status=JournalStatus.DRAFT,
        lines=[JournalLine(category="cash", account_code="1210", amount=Decimal("5.00"),
                           description="Cash", tax_type="NONE",
                           tracking=[Tracking(name="Store", option="12")]),
               JournalLine(category="rental", account_code="4000", amount=Decimal("-5.00"))])
    assert journal_payload(journal, "the narration") == {
        "Narration": "the narration",
        "Date": "2026-11-24",
        "Status": "DRAFT",
        "LineAmountTypes": journal.line_amount_types,
        "JournalLines": [
            {"LineAmount": Decimal("5.00"), "AccountCode": "1210", "Description": "Cash",
             "TaxType": "NONE", "Tracking": [{"Name": "Store", "Option": "12"}]},
            {"LineAmount": Decimal("-5.00"), "AccountCode": "4000"},
        ],
    }
    assert total(journal) == Decimal("5.00")
    assert _posting(journal).narration == journal.narration


def test_outcome_events_name_their_day_and_cause() -> None:
    journal = Journal(narration="n [r]", reference="r", date=DAY, lines=LINES)
    posting = _posting(journal)
    journal_id, replaced = uuid4(), uuid4()
    event = succeeded(posting, journal_id, already_posted=True, replaced=replaced)
    assert (event.correlation_id, event.causation_id, event.store_id, event.business_date,
            event.revision, event.tenant_id, event.journal_id, event.already_posted,
            event.replaced_journal_id) == (
        "12:2026-11-24", str(posting.event_id), "12", DAY, 2, posting.tenant_id, journal_id,
        True, replaced)
    assert succeeded(posting, journal_id, causation_id="c").causation_id == "c"
    error = PostingError(kind=ErrorKind.VALIDATION, message="m")
    retry = PostingError(kind=ErrorKind.XERO_UNAVAILABLE, message="r", retryable=True)
    assert not failed(posting, [error]).retryable
    assert failed(posting, [error, retry]).retryable
    assert failed(posting, [error]).errors == [error]


def test_superseded_and_give_up_say_what_to_do() -> None:
    assert superseded_error(3) == PostingError(
        kind=ErrorKind.VALIDATION,
        message="Not posted: revision 3 of this day arrived first and replaces this one."
        " Nothing to do.")
    assert give_up_error(8, "8 attempts failed", ErrorKind.XERO_UNAVAILABLE) == PostingError(
        kind=ErrorKind.XERO_UNAVAILABLE,
        message="Xero could not be reached after 8 attempts (8 attempts failed). Nothing was"
        " posted; post the day again later.",
        retryable=True)


def test_settled_states() -> None:
    assert {s for s in State if s.settled} == {State.POSTED, State.FAILED, State.SUPERSEDED}


# --- references and keys ---

def test_the_reference_and_narration_carry_the_day() -> None:
    assert posting_reference("12", DAY, 3) == "[glb:12:2026-11-24:3]"
    assert narration_with_reference("Totals [r1]", "[r1]") == "Totals [r1]"
    assert narration_with_reference("Totals", "[r1]") == "Totals [r1]"
    long = narration_with_reference("x" * 600, "[r1]")
    assert len(long) == 500 and long.endswith(" [r1]")
    assert narration_with_reference("x" * 20, "[r1]", limit=10) == "xxxxx [r1]"


def test_a_narration_is_filtered_on_as_it_is_and_never_needs_escaping() -> None:
    assert narration_filter("Store 12 [glb:12:2026-11-24:1]") == \
        'Narration=="Store 12 [glb:12:2026-11-24:1]"'
    for unquotable in ('a"b', "a\\b"):
        with pytest.raises(ValueError):
            narration_filter(unquotable)
    assert narration_with_reference('say "hi"\\', "[r]") == "say 'hi'/ [r]"


def test_idempotency_keys_differ_by_batch_and_by_tag() -> None:
    key = idempotency_key([1, 2], "put")
    assert key.startswith("glb-") and len(key) == 64
    assert key != idempotency_key([1, 2], "VOIDED:x")
    assert key != idempotency_key([1, 3], "put")
    assert key != idempotency_key([12], "put")  # "1,2," is not "12,"


# --- batches ---

def test_batches_are_chunks_in_order_and_groups_by_key() -> None:
    assert chunks([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert chunks([], 50) == []
    assert group_by([1, 2, 3, 4], lambda n: n % 2) == {1: [1, 3], 0: [2, 4]}
    assert type(group_by([1], lambda n: n)) is dict


