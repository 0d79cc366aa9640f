"""A setup's own problems, found before Xero is asked (services/totals/domain/setup_check.py)."""

from services.totals.domain.setup import StoreSetup
from services.totals.domain.setup_check import expand_setup, verdict
from shared.contracts.examples import example_setup


def setup(**changes: object) -> StoreSetup:
    body = example_setup()
    accounts = changes.pop("accounts", {})
    body["accounts"].update(accounts)
    return StoreSetup.model_validate({**body, **changes})


def test_the_consolidated_store_and_unexpandable_codes_are_errors():
    expanded = expand_setup("999", setup(accounts={"fuel": "40{Class}", "debit": "CC"},
                                         tracking=[{"name": "Store", "option": "S-##"}]))
    kinds = {(p["kind"], p["category"]) for p in expanded.problems}
    assert ("consolidated-store", None) in kinds
    assert ("setup", "fuel") in kinds and ("setup", "tracking Store") in kinds
    assert ("debit", "CC") not in expanded.entries  # debit posts with visa's code


def test_codes_are_checked_as_the_store_sends_them():
    expanded = expand_setup("7", setup(accounts={"rental": "40##"}, store_class="EQ"))
    assert ("rental", "4007") in expanded.entries


def test_never_ready_with_an_error_or_unchecked():
    error = {"severity": "error", "message": "x"}
    warning = {"severity": "warning", "message": "y"}
    assert verdict([], [warning])["ready"] is True
    assert verdict([], [warning, error])["ready"] is False
    assert verdict([], None, "posting did not answer")["ready"] is False
    assert verdict([error], [])["problems"][0] is error
