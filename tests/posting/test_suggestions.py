"""What a refused account's message suggests instead (services/posting/domain/chart.py):
accounts of the class the entry posts to, most alike in name first."""

from decimal import Decimal

from services.posting.domain.chart import Account, Chart, check_line, unusual_account
from services.xero_sandbox.domain.charts import TEMPLATES
from shared.contracts.events import JournalLine


def us_rental(**status: str) -> Chart:
    return Chart({a.code: Account(a.code, a.name, a.type, status.get(f"s{a.code}", a.status),
                                  a.system_account or None)
                  for a in TEMPLATES["us-rental"]})


def line(category: str, code: str) -> JournalLine:
    return JournalLine(category=category, account_code=code, amount=Decimal("10.00"))


def test_an_archived_revenue_account_gets_revenue_accounts_alike_in_name():
    problem = check_line(line("rental", "4095"), us_rental())
    assert problem is not None
    assert "4000 \"Rental Revenue\"" in problem.message
    assert "2200" not in problem.message and "4900" not in problem.message
    assert "Restore it in Xero" in problem.message


def test_a_deleted_account_is_never_to_be_restored():
    problem = check_line(line("rental", "4000"), us_rental(s4000="DELETED"))
    assert problem is not None
    assert "restore" not in problem.message.replace("cannot restore", "")
    assert "Create a new account" in problem.message


def test_an_unknown_code_gets_accounts_of_the_entry_s_class():
    problem = check_line(line("rental-tax", "2299"), us_rental())
    assert problem is not None
    assert "2200 \"Rental Tax Payable\"" in problem.message
    assert "4000" not in problem.message


def test_a_system_account_for_revenue_suggests_revenue_not_a_clearing_account():
    problem = check_line(line("fees", "1100"), us_rental())  # receivables
    assert problem is not None
    assert "4060 \"Fees Revenue\"" in problem.message and "clearing" not in problem.message


def test_an_account_of_another_class_is_a_warning_only():
    warning = unusual_account(line("discounts", "2200"), us_rental())
    assert warning is not None and "a liability account" in warning.message
    assert unusual_account(line("discounts", "4900"), us_rental()) is None
    assert check_line(line("discounts", "2200"), us_rental()) is None  # Xero accepts it
