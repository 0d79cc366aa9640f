"""The posting rules, pure: chart check, Xero's answers, budget arithmetic, references."""

import asyncio
import json
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from services.posting.adapters.xero import dumps
from services.posting.domain import budget
from services.posting.domain.batching import linger_s
from services.posting.domain.chart import (
    Account,
    Chart,
    chart_from_xero,
    check_journal,
    parse_xero_date,
)
from services.posting.domain.model import Posting, State
from services.posting.domain.outcome import judge, result_from_xero, xero_error
from services.posting.domain.reference import (
    idempotency_key,
    narration_filter,
    narration_with_reference,
)
from services.posting.domain.retry import backoff_s
from services.posting.service_layer.drain.policy import Allowance
from shared.contracts.events import (
    ErrorKind,
    Journal,
    JournalLine,
    StoreTotalsClosed,
    Trigger,
    money,
)

DAY = date(2026, 11, 24)

CHART = Chart(
    accounts={
        a.code: a
        for a in [
            Account("090", "Business Bank Account", "BANK"),
            Account("1100", "Accounts Receivable", "CURRENT", system_account="DEBTORS"),
            Account("1210", "Undeposited Cash", "CURRENT"),
            Account("1220", "Undeposited Checks", "CURRENT"),
            Account("1230", "Card Clearing Visa/MasterCard/Discover", "CURRENT"),
            Account("1300", "POS Charges on Account", "CURRENT"),
            Account("2210", "Sales Tax Payable", "CURRLIAB"),
            Account("4000", "Rental Revenue", "REVENUE"),
            Account("4095", "Old Rental Revenue", "REVENUE", status="ARCHIVED"),
        ]
    },
    end_of_year_lock_date=date(2026, 10, 31),
    organisation_name="Demo Rentals (US)",
)


def journal(*lines: tuple[str, str, str], day: date = DAY, tax: str | None = None) -> Journal:
    return Journal(
        narration="Store 1 totals [glb:1:2026-11-24:1]",
        reference="glb:1:2026-11-24:1",
        date=day,
        lines=[
            JournalLine(category=cat, account_code=code, amount=money(amount), tax_type=tax)
            for cat, code, amount in lines
        ],
    )


def test_a_good_journal_has_no_problems():
    assert check_journal(journal(("Cash", "1210", "100"), ("Rental", "4000", "-100")), CHART) == []


def test_every_problem_is_reported_at_once_with_category_and_code():
    bad = journal(
        ("Cash", "090", "50"),
        ("AR Charges", "1100", "10"),
        ("Rental", "4001", "-40"),
        ("Old rental", "4095", "-10"),
        ("Sales tax", "2210", "-5"),
        day=date(2026, 10, 1),
    )
    errors = check_journal(bad, CHART)
    kinds = [e.kind for e in errors]
    assert kinds == [
        ErrorKind.BANK_ACCOUNT,
        ErrorKind.SYSTEM_ACCOUNT,
        ErrorKind.UNKNOWN_ACCOUNT,
        ErrorKind.ARCHIVED_ACCOUNT,
        ErrorKind.UNBALANCED,
        ErrorKind.LOCKED_PERIOD,
    ]
    bank, system, unknown, archived, unbalanced, locked = errors
    assert (bank.category, bank.account_code) == ("Cash", "090")
    assert "1210" in bank.message and "Undeposited Cash" in bank.message
    assert (system.category, system.account_code) == ("AR Charges", "1100")
    assert "clearing account" in system.message and "1300" in system.message
    assert unknown.account_code == "4001" and "4000" in unknown.message
    assert "archived" in archived.message
    assert "60.00" in unbalanced.message and "55.00" in unbalanced.message
    assert "2026-10-31" in locked.message
    assert not any(e.retryable for e in errors)


def test_checks_are_suggested_a_checks_clearing_account():
    errors = check_journal(journal(("Check", "090", "1"), ("Rental", "4000", "-1")), CHART)
    assert "1220" in errors[0].message


def test_chart_from_xero_json_reads_lock_dates_in_xero_form():
    chart = chart_from_xero(
        [{"Code": "4000", "Name": "Rental Revenue", "Type": "REVENUE", "Status": "ACTIVE"},
         {"Name": "no code"}],
        {"Name": "Org", "PeriodLockDate": "/Date(1761868800000+0000)/"},
    )
    assert list(chart.accounts) == ["4000"]
    assert chart.period_lock_date == date(2025, 10, 31)


def test_a_xero_date_east_of_utc_is_read_with_its_offset():
    # developer.xero.com "Dates and timestamps explained": the offset is applied.
    assert parse_xero_date("/Date(1419937200000+1300)/") == date(2014, 12, 31)
    assert parse_xero_date("/Date(1420070400000-0500)/") == date(2014, 12, 31)
    assert parse_xero_date("/Date(1419984000000)/") == date(2014, 12, 31)


def test_only_the_end_of_year_lock_is_refused_before_xero_decides():
    period_only = Chart(accounts=CHART.accounts, period_lock_date=date(2026, 11, 30))
    ok = journal(("Cash", "1210", "100"), ("Rental", "4000", "-100"))
    assert check_journal(ok, period_only) == []  # an adviser may post it: Xero says
    [locked] = check_journal(ok, Chart(accounts=CHART.accounts,
                                       end_of_year_lock_date=date(2026, 11, 30)))
    assert "end of year lock date" in locked.message and "2026-11-30" in locked.message


def test_xeros_lock_refusal_names_the_lock_and_who_can_act():
    period = xero_error("The document date cannot be before the period lock date, currently"
                        " set at 2026-11-30", [])
    assert period.kind == ErrorKind.LOCKED_PERIOD
    assert "period lock date" in period.message and "Adviser" in period.message
    assert "2026-11-30" in period.message
    year = xero_error("The document date cannot be before the end of year lock date,"
                      " currently set at 2025-12-31", [])
    assert "end of year lock date" in year.message and "advisers too" in year.message


def lines():
    return journal(("Cash", "1210", "100"), ("Rental", "476", "-100")).lines


def test_a_dropped_line_warning_is_a_failure():
    result = result_from_xero({
        "Narration": "n", "ManualJournalID": str(uuid4()), "StatusAttributeString": "WARNING",
        "Warnings": [{"Message": "Account code '476' has been removed as it does not match a"
                                 " recognised account."}],
    })
    [error] = judge(result, lines())
    assert error.kind == ErrorKind.LINE_DROPPED
    assert (error.category, error.account_code) == ("Rental", "476")
    assert error.xero_message and "476" in error.xero_message


def test_xero_validation_errors_name_the_entry():
    result = result_from_xero({
        "Narration": "n", "ManualJournalID": "00000000-0000-0000-0000-000000000000",
        "StatusAttributeString": "ERROR",
        "ValidationErrors": [
            {"Message": "The TaxType code 'TAX001' cannot be used with account code '1210'."},
            {"Message": "The total debits (100.00) must equal total credits (-10.00)"},
            {"Message": "Account code '476' is not a valid code for this document"},
        ],
    })
    assert result.journal_id is None
    tax, unbalanced, unknown = judge(result, lines())
    assert tax.kind == ErrorKind.TAX_TYPE and tax.category == "Cash"
    assert unbalanced.kind == ErrorKind.UNBALANCED
    assert unknown.kind == ErrorKind.UNKNOWN_ACCOUNT and unknown.category == "Rental"


def test_an_ok_journal_is_a_success():
    result = result_from_xero({"Narration": "n", "ManualJournalID": str(uuid4()),
                               "StatusAttributeString": "OK"})
    assert judge(result, lines()) == []


NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
LIMITS = budget.Limits(per_minute=3, concurrent=2, window=timedelta(seconds=62))


def test_the_sliding_minute_waits_for_the_oldest_call():
    calls = [NOW - timedelta(seconds=s) for s in (50, 30, 10)]
    decision = budget.decide(NOW, calls, [], None, LIMITS)
    assert not decision.granted and decision.wait_s == 12.0
    later = NOW + timedelta(seconds=13)
    assert budget.decide(later, calls, [], None, LIMITS).granted


def test_calls_in_flight_are_capped_and_expire():
    held = [NOW + timedelta(seconds=5), NOW + timedelta(seconds=5)]
    assert not budget.decide(NOW, [], held, None, LIMITS).granted
    assert budget.decide(NOW + timedelta(seconds=6), [], held, None, LIMITS).granted


def test_retry_after_blocks():
    until = NOW + timedelta(seconds=30)
    assert budget.decide(NOW, [], [], until, LIMITS).wait_s == 30
    assert budget.blocked_after_answer(NOW, 7, None) == NOW + timedelta(seconds=7)
    assert budget.blocked_after_answer(NOW, None, 5) is None


def test_the_app_minute_waits_for_the_next_minute():
    assert budget.app_wait_s(NOW + timedelta(seconds=5)) == 55


def test_backoff_grows_with_jitter_and_is_capped():
    rng = random.Random(1)
    delays = [backoff_s(a, 1.0, 30.0, rng) for a in range(1, 10)]
    assert 0.5 <= delays[0] <= 1.0 and 15 <= delays[-1] <= 30


def test_the_narration_sent_never_needs_escaping_in_a_where_filter():
    # Xero refuses backslash-escaped quotes (XeroAPI/Xero-Java#347) and documents no escape.
    sent = narration_with_reference('Store "A" \\ day', "[glb:A:2026-01-01:1]")
    assert '"' not in sent and "\\" not in sent
    assert narration_filter(sent) == f'Narration=="{sent}"'
    with pytest.raises(ValueError, match="cannot filter"):
        narration_filter('a "b" c')


def test_idempotency_key_is_stable_and_short():
    assert idempotency_key([3, 1, 2], "put") == idempotency_key([1, 2, 3], "put")
    assert 0 < len(idempotency_key(range(50), "put")) <= 128


def test_decimals_are_written_as_exact_numbers():
    text = dumps({"LineAmount": Decimal("12345678901234.56"), "Other": "x",
                  "Small": Decimal("1E-7"), "Negative": Decimal("-0.10")})
    read = json.loads(text, parse_float=Decimal)
    assert read["LineAmount"] == Decimal("12345678901234.56")
    assert read["Small"] == Decimal("1E-7") and read["Negative"] == Decimal("-0.10")
    assert '"LineAmount":12345678901234.56' in text  # a number, not a string


def test_what_is_not_a_finite_number_is_refused_not_written():
    with pytest.raises(TypeError, match=r"not JSON serializable: decimal\.Decimal"):
        dumps({"LineAmount": Decimal("NaN")})
    with pytest.raises(TypeError, match="not JSON serializable: object"):
        dumps({"When": object()})


async def test_the_allowance_bounds_what_concurrent_drains_hold() -> None:
    allowance = Allowance(60)
    first = await allowance.take(50)
    second = await allowance.take(50)
    assert (first, second) == (50, 10)
    waiting = asyncio.create_task(allowance.take(50))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    allowance.give(first)
    assert await waiting == 50
    allowance.give(second)
    assert allowance.free == 10


def test_calls_are_paced_once_half_the_minute_is_spent() -> None:
    # Plenty left (or nothing known): a batch goes at once.
    assert linger_s(None, 60) == 0.0
    assert linger_s(31, 60) == 0.0
    # Half or less left: one call a second, so days still arriving share a call.
    assert linger_s(30, 60) == 1.0
    assert linger_s(0, 60) == 1.0
    assert linger_s(2, 10) == 6.0


def test_the_bodies_posting_sends_validate_against_the_spec():
    """The journal (tax-coded, tracked, with its rounding line) and its void, as sent,
    against the official spec's ManualJournals schema; the old short void body fails it."""
    from decimal import Decimal as D

    from services.posting.adapters.xero import void_body
    from services.posting.domain.chart import TaxRate
    from services.posting.domain.model import journal_payload
    from services.posting.domain.tax import with_rounding
    from shared.contracts.events import TaxCheck, Tracking
    from tests.support.specs import spec_errors

    chart = Chart(accounts={"200": Account("200", "Sales", "REVENUE", account_class="REVENUE"),
                            "620": Account("620", "Undeposited", "CURRENT",
                                           account_class="ASSET"),
                            "860": Account("860", "Rounding", "CURRLIAB")},
                  tax_rates={"OUTPUT2": TaxRate("OUTPUT2", "15% GST on Income", D("15"),
                                                applies_to=frozenset({"REVENUE"}))})
    store = [Tracking(name="Store", option="Store 1")]
    taxed = Journal(
        narration="Store 1 [glb:1:2026-11-24:1]", reference="glb:1:2026-11-24:1", date=DAY,
        line_amount_types="Exclusive", currency="NZD",
        tax=TaxCheck(pos_tax=D("11.45"), rounding_account="860"),
        lines=[JournalLine(category="rental", account_code="200", amount=money(a),
                           tax_type="OUTPUT2", tracking=store)
               for a in ("-25.06", "-25.61", "-25.63")]
        + [JournalLine(category="cash", account_code="620", amount=money("87.75"),
                       tax_type="NONE", tracking=store)])
    sent = with_rounding(taxed, chart)
    assert sent.lines[-1].account_code == "860" and sent.lines[-1].amount == D("-0.01")
    payload = journal_payload(sent, taxed.narration)
    assert not spec_errors(json.loads(dumps({"ManualJournals": [payload]})), "ManualJournals")
    assert not spec_errors(json.loads(void_body(uuid4(), payload)), "ManualJournals")
    short = {"ManualJournals": [{"ManualJournalID": str(uuid4()), "Status": "VOIDED"}]}
    assert spec_errors(short, "ManualJournals")


def test_a_posting_holds_its_journal_parsed_only_while_needed() -> None:
    event = StoreTotalsClosed(
        correlation_id="7:2026-11-24", store_id="7", business_date=DAY, revision=1,
        trigger=Trigger.END_OF_DAY, connection_id=uuid4(), tenant_id=uuid4(),
        journal=Journal(narration="Store 7 totals", reference="glb:7:2026-11-24:1", date=DAY,
                        lines=[JournalLine(category="cash", account_code="1210",
                                           amount=money("10.00")),
                               JournalLine(category="rental", account_code="4000",
                                           amount=money("-10.00"))]))
    posting = Posting(1, "7", DAY, 1, event.tenant_id, event.connection_id, event.event_id,
                      event.correlation_id, event.model_dump_json(), State.PENDING, 0)
    assert "journal" not in posting.__dict__  # as claimed: the stored JSON only
    assert posting.narration == "Store 7 totals glb:7:2026-11-24:1"
    assert posting.journal == event.journal
    posting.forget_journal()  # sent: the payload is what the call holds
    assert "journal" not in posting.__dict__
    assert posting.journal == event.journal  # parsed again when an error needs its lines
