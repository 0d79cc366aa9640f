"""The setup check's own rules pinned value for value (services/totals/domain/setup_check.py):
each problem as the POS shows it, each entry and tracking option as the store sends
them, the tax rates a tax-coded store is checked with, and the verdict's words."""

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from services.totals.domain.setup import StoreSetup
from services.totals.domain.setup_check import (
    ERROR,
    WARNING,
    Expanded,
    expand_setup,
    tax_rates,
    verdict,
)
from shared.contracts.examples import US_RENTAL_ACCOUNTS, example_setup


def setup(**changes: Any) -> StoreSetup:
    body = example_setup()
    if "accounts" in changes:
        body["accounts"] = changes.pop("accounts")
    return StoreSetup.model_validate({**body, **changes})


def problem(category: str | None, code: str | None, message: str,
            kind: str = "setup") -> dict[str, Any]:
    return {"severity": "error", "kind": kind, "category": category, "account_code": code,
            "message": message, "xero_message": None}


def test_severities_are_the_words_the_pos_reads() -> None:
    assert (ERROR, WARNING) == ("error", "warning")


def test_a_clean_setup_expands_every_entry_in_order_with_no_problem() -> None:
    expanded = expand_setup("12", setup(accounts={"rental": "40##", "cash": "1210",
                                                  "fuel": "4{Store}"}))
    assert expanded == Expanded([("rental", "4012"), ("cash", "1210"), ("fuel", "412")],
                                [], [])


def test_the_example_setup_has_no_problem_of_its_own() -> None:
    expanded = expand_setup("12", setup())
    assert expanded.problems == []
    assert expanded.entries == list(US_RENTAL_ACCOUNTS.items())


def test_the_consolidated_store_is_an_error_of_its_own_kind() -> None:
    expanded = expand_setup("999", setup(accounts={"cash": "1210"}))
    assert expanded.problems == [problem(
        None, None, "Store 999 holds the consolidated totals of all stores: a report, never "
        "posted. Post each store instead.", "consolidated-store")]
    assert expanded.entries == [("cash", "1210")]  # the rest is still checked


def test_only_store_number_999_is_the_consolidated_one() -> None:
    def kinds(store: str) -> list[str]:
        return [p["kind"] for p in expand_setup(store, setup(accounts={"cash": "1210"})).problems]

    assert kinds("0999") == ["consolidated-store"]  # the number, however padded
    for store in ("99", "9990", "1999", "S999"):
        assert kinds(store) == []


def test_debit_with_visas_code_is_no_entry_of_its_own() -> None:
    expanded = expand_setup("12", setup(accounts={"visa": "1230", "debit": "CC",
                                                  "cash": "1210"}))
    assert expanded == Expanded([("visa", "1230"), ("cash", "1210")], [], [])


def test_debit_with_visas_code_needs_a_visa_code() -> None:
    expanded = expand_setup("12", setup(accounts={"debit": "CC", "cash": "1210"}))
    assert expanded.problems == [problem(
        "debit", "CC", "Account Numbers > debit: CC posts debit cards with Visa's code, but "
        "visa has no account code.")]
    assert expanded.entries == [("cash", "1210")]


def test_a_code_that_cannot_expand_names_its_entry_and_why() -> None:
    expanded = expand_setup("12345", setup(accounts={"rental": "40###", "cash": "1210",
                                                     "fuel": "40{Class}",
                                                     "sales": "4010-{Store}-XY"}))
    assert expanded.entries == [("cash", "1210")]
    assert expanded.problems == [
        problem("rental", "40###", "Account Numbers > rental: code '40###' 3 '#' cannot "
                "hold store number 12345 (5 digits)."),
        problem("fuel", "40{Class}", "Account Numbers > fuel: code '40{Class}' uses {Class}"
                " but the setup has no store_class."),
        problem("sales", "4010-{Store}-XY", "Account Numbers > sales: code "
                "'4010-{Store}-XY' becomes '4010-12345-XY', longer than Xero's 10 "
                "characters."),
    ]


def test_class_tags_expand_with_the_store_class() -> None:
    expanded = expand_setup("7", setup(accounts={"rental": "40{Class}"}, store_class="EQ",
                                       tracking=[{"name": "Class", "option": "{Class}-#"}]))
    assert expanded == Expanded([("rental", "40EQ")], [{"name": "Class", "option": "EQ-7"}],
                                [])


def test_each_tracking_option_as_the_store_sends_it() -> None:
    expanded = expand_setup("7", setup(accounts={"cash": "1210"}, tracking=[
        {"name": "Store", "option": "Store ###"},
        {"name": "Region", "option": "Central"},
    ]))
    assert expanded.tracking == [{"name": "Store", "option": "Store 007"},
                                 {"name": "Region", "option": "Central"}]
    assert expanded.problems == []


def test_a_tracking_option_that_cannot_expand_names_its_category() -> None:
    expanded = expand_setup("123", setup(accounts={"cash": "1210"}, tracking=[
        {"name": "Store", "option": "S-##"},
        {"name": "Class", "option": "{Class}"},
    ]))
    assert expanded.tracking == []
    assert expanded.problems == [
        problem("tracking Store", None, "Tracking Store: option 'S-##' 2 '#' cannot hold "
                "store number 123 (3 digits)."),
        problem("tracking Class", None, "Tracking Class: option '{Class}' uses {Class} but "
                "the setup has no store_class."),
    ]


def test_a_tracking_option_may_be_longer_than_an_account_code() -> None:
    option = "Northern region store {Store}"
    expanded = expand_setup("12", setup(accounts={}, tracking=[{"name": "R", "option": option}]))
    assert expanded.tracking == [{"name": "R", "option": "Northern region store 12"}]


def test_a_liability_store_is_checked_with_no_tax_rate() -> None:
    assert tax_rates(setup(tax_rates={"rental": "OUTPUT"})) == {}


def test_a_tax_coded_store_is_checked_with_each_entrys_rate() -> None:
    coded = setup(accounts={"rental": "4000", "rental/Lifts": "4001", "sales": "4010",
                            "discounts": "4900", "cash": "1210"},
                  tax_mode="tax-coded",
                  tax_rates={"rental": "OUTPUT2", "discounts": "OUTPUT2", "cash": "NONE"})
    # A split carries its base's rate; an entry with no rate mapped is not checked here.
    assert tax_rates(coded) == {"rental": "OUTPUT2", "rental/Lifts": "OUTPUT2",
                                "discounts": "OUTPUT2", "cash": "NONE"}


def test_a_split_with_its_own_rate_is_checked_with_it() -> None:
    coded = setup(accounts={"rental": "4000", "rental/Lifts": "4001"}, tax_mode="tax-coded",
                  tax_rates={"rental": "OUTPUT2", "rental/Lifts": "EXEMPTOUTPUT"})
    assert tax_rates(coded) == {"rental": "OUTPUT2", "rental/Lifts": "EXEMPTOUTPUT"}


ERR = {"severity": "error", "kind": "setup", "message": "e"}
WARN = {"severity": "warning", "kind": "archived", "message": "w"}


def test_ready_when_the_organisation_answered_with_no_error() -> None:
    assert verdict([], []) == {
        "ready": True, "checked": True, "errors": 0, "warnings": 0, "problems": [],
        "reason": None, "message": "Ready to post.",
    }


def test_warnings_leave_a_setup_ready_and_are_counted() -> None:
    other = {**WARN, "message": "w2"}
    assert verdict([WARN], [other]) == {
        "ready": True, "checked": True, "errors": 0, "warnings": 2,
        "problems": [WARN, other], "reason": None,
        "message": "Ready to post (2 warning(s): check them with your accountant).",
    }


def test_errors_come_first_and_make_it_not_ready() -> None:
    own_error = {**ERR, "message": "own"}
    result = verdict([WARN, own_error], [ERR])
    assert result == {
        "ready": False, "checked": True, "errors": 2, "warnings": 1,
        "problems": [own_error, ERR, WARN], "reason": None,
        "message": "Saved, not ready to post: 2 error(s) would make every day fail. Fix them"
                   " in the setup or in Xero, then save again.",
    }


def test_unchecked_is_never_ready_and_says_why() -> None:
    assert verdict([WARN], None, "posting did not answer") == {
        "ready": False, "checked": False, "errors": 0, "warnings": 1, "problems": [WARN],
        "reason": "posting did not answer",
        "message": "Saved; not checked against Xero yet (posting did not answer): save "
                   "again to check.",
    }


def test_the_setups_own_errors_count_even_unchecked() -> None:
    result = verdict([ERR], None, "no connection")
    assert (result["ready"], result["checked"], result["errors"]) == (False, False, 1)
    assert result["message"].startswith("Saved, not ready to post: 1 error(s)")


severities = st.lists(st.sampled_from(["error", "warning"]), max_size=6)


@given(severities, st.none() | severities)
def test_the_verdict_counts_and_orders_every_problem(
    own: list[str], organisation: list[str] | None
) -> None:
    own_problems = [{"severity": s, "n": i} for i, s in enumerate(own)]
    org_problems = (None if organisation is None else
                    [{"severity": s, "n": 100 + i} for i, s in enumerate(organisation)])
    result = verdict(own_problems, org_problems, "why")
    every = own_problems + (org_problems or [])
    errors = [p for p in every if p["severity"] == "error"]
    assert result["problems"] == errors + [p for p in every if p["severity"] != "error"]
    assert (result["errors"], result["warnings"]) == (len(errors), len(every) - len(errors))
    assert result["ready"] is (organisation is not None and not errors)
