"""A store's Account Numbers setup checked against its organisation, pure: by the very rules
a day's journal meets before it is sent, without what belongs to one day."""

from datetime import date
from decimal import Decimal

from services.posting.domain.chart import Account, Chart, TaxRate, TrackingCategory
from services.posting.domain.setup_check import Finding, SetupEntry, Severity, check_setup
from shared.contracts.events import ErrorKind, Tracking

TODAY = date(2026, 11, 24)
GST = TaxRate("OUTPUT2", "GST on Income", Decimal("15"), applies_to=frozenset({"REVENUE"}))
BOOKS = Chart(
    accounts={a.code: a for a in [
        Account("1210", "Undeposited Cash", "CURRENT"),
        Account("2210", "Sales Tax Payable", "CURRLIAB"),
        # Xero sends each account's Class; a tax rate is judged by it.
        Account("4000", "Rental Revenue", "REVENUE", account_class="REVENUE"),
        Account("090", "Business Bank", "BANK"),
    ]},
    # Today is inside the end of year lock: a day's matter, not the setup's.
    end_of_year_lock_date=date(2026, 12, 31),
    organisation_name="Demo Rentals",
    base_currency="NZD",
    tax_rates={"OUTPUT2": GST},
    tracking={"region": TrackingCategory("Region", options={"North": "ACTIVE"},
                                         category_id="c1")},
)


def kinds(findings: list[Finding]) -> list[tuple[Severity, ErrorKind, str | None]]:
    return [(f.severity, f.problem.kind, f.problem.account_code) for f in findings]


def test_a_good_setup_has_no_findings_even_inside_a_lock_date() -> None:
    entries = [SetupEntry("cash", "1210"), SetupEntry("rental", "4000", "OUTPUT2")]
    assert check_setup(entries, [Tracking(name="Region", option="North")], BOOKS, TODAY,
                       "NZD") == []
    assert check_setup([SetupEntry("rental", "4000")], [], BOOKS, TODAY) == []


def test_an_empty_setup_has_nothing_to_check() -> None:
    assert check_setup([], [Tracking(name="Nowhere", option="x")], BOOKS, TODAY, "USD") == []


def test_errors_come_first_each_said_once_then_warnings() -> None:
    entries = [SetupEntry("rental", "2210"), SetupEntry("cash", "090"),
               SetupEntry("sales", "9999"), SetupEntry("cash", "090"),
               SetupEntry("rental", "4000", "BAD")]
    findings = check_setup(entries, [], BOOKS, TODAY)
    assert kinds(findings) == [
        (Severity.ERROR, ErrorKind.BANK_ACCOUNT, "090"),
        (Severity.ERROR, ErrorKind.UNKNOWN_ACCOUNT, "9999"),
        (Severity.ERROR, ErrorKind.TAX_TYPE, "4000"),
        (Severity.WARNING, ErrorKind.VALIDATION, "2210"),  # revenue on a liability
    ]
    assert findings[0].problem.category == "cash"
    assert [s.value for s in Severity] == ["error", "warning"]


def test_a_refused_entry_is_not_also_warned_about() -> None:
    # A tax rate Xero refuses on a liability is the error; the unusual class is not added.
    findings = check_setup([SetupEntry("rental", "2210", "OUTPUT2")], [], BOOKS, TODAY)
    assert kinds(findings) == [(Severity.ERROR, ErrorKind.TAX_TYPE, "2210")]


def test_the_stores_currency_and_tracking_are_checked_once() -> None:
    entries = [SetupEntry("cash", "1210"), SetupEntry("rental", "4000")]
    tracking = [Tracking(name="Region", option="South")]
    findings = check_setup(entries, tracking, BOOKS, TODAY, "USD")
    assert kinds(findings) == [(Severity.ERROR, ErrorKind.CURRENCY, None),
                               (Severity.ERROR, ErrorKind.TRACKING, None)]
    assert "\"South\"" in findings[1].problem.message


def test_a_one_entry_setup_is_checked_like_any_other() -> None:
    findings = check_setup([SetupEntry("rental", "090")], [], BOOKS, TODAY)
    assert kinds(findings) == [(Severity.ERROR, ErrorKind.BANK_ACCOUNT, "090")]
    warned = check_setup([SetupEntry("rental", "1210")], [], BOOKS, TODAY)
    assert kinds(warned) == [(Severity.WARNING, ErrorKind.VALIDATION, "1210")]
