"""Property tests of the pure journal builder (hypothesis), and its stated rules."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.totals.domain.categories import RevenueCategory, TaxKind, TenderType
from services.totals.domain.codes import TagError, expand_code
from services.totals.domain.examples import example_store_setup, example_totals
from services.totals.domain.journal import TotalsRefused, build_day, make_journal
from services.totals.domain.setup import StoreSetup
from services.totals.domain.totals import DayTotals
from shared.contracts.examples import US_RENTAL_ACCOUNTS, example_day_totals
from tests.support.examples import examples

CENTS = Decimal("0.01")
amounts = st.integers(-10**9, 10**9).map(lambda c: Decimal(c) * CENTS)
positive = st.integers(0, 10**9).map(lambda c: Decimal(c) * CENTS)
splits = st.none() | st.sampled_from(["Excavators", "Lifts", "County", "State"])


def revenue() -> st.SearchStrategy[dict]:
    return st.builds(lambda c, s, a: {"category": c, "item_category": s, "amount": str(a)},
                     st.sampled_from(list(RevenueCategory)), splits, amounts)


def taxes() -> st.SearchStrategy[dict]:
    return st.builds(lambda k, s, a: {"kind": k, "authority": s, "amount": str(a)},
                     st.sampled_from(list(TaxKind)), splits, amounts)


def tenders() -> st.SearchStrategy[dict]:
    return st.builds(lambda t, r, f: {"type": t, "received": str(r), "refunded": str(f)},
                     st.sampled_from(list(TenderType)), positive, positive)


@st.composite
def balanced_totals(draw: st.DrawFn) -> dict:
    body = {
        "revenue": draw(st.lists(revenue(), max_size=8)),
        "discounts": str(draw(amounts)),
        "taxes": draw(st.lists(taxes(), max_size=4)),
        "tenders": draw(st.lists(tenders(), max_size=9)),
        "ar_payments": str(draw(amounts)),
        "deposits": {k: str(draw(positive)) for k in ("taken", "applied", "refunded",
                                                      "forfeited")},
        "open_contracts": {k: str(draw(positive)) for k in ("taken", "released")},
    }
    body["over_short"] = str(signed_sum(body))
    return body


def signed_sum(body: dict) -> Decimal:
    """Debits minus credits of everything but over/short, computed independently."""
    d = Decimal
    total = -sum((d(r["amount"]) for r in body["revenue"]), d(0))
    total += d(body["discounts"])
    total -= sum((d(t["amount"]) for t in body["taxes"]), d(0))
    total += sum((d(t["received"]) - d(t["refunded"]) for t in body["tenders"]), d(0))
    total -= d(body["ar_payments"])
    dep = body["deposits"]
    total += -d(dep["taken"]) + d(dep["applied"]) + d(dep["refunded"])
    total += -d(body["open_contracts"]["taken"]) + d(body["open_contracts"]["released"])
    return total


@settings(max_examples=examples(150), deadline=None)
@given(balanced_totals())
def test_any_valid_totals_make_a_journal_balanced_to_the_cent(body: dict) -> None:
    day = build_day("12", example_store_setup(), DayTotals.model_validate(body))
    assert sum((line.amount for line in day.lines), Decimal(0)) == Decimal("0.00")
    for line in day.lines:
        assert line.amount != 0
        assert line.amount == line.amount.quantize(CENTS)
        assert line.account_code in set(US_RENTAL_ACCOUNTS.values())
    if day.lines:
        journal = make_journal("12", date(2026, 11, 27), 1, day)
        assert "[glb:12:2026-11-27:1]" in journal.narration


@settings(max_examples=examples(100), deadline=None)
@given(balanced_totals(), st.sets(st.sampled_from(sorted(US_RENTAL_ACCOUNTS))))
def test_every_unmapped_figure_is_named_at_once(body: dict, removed: set[str]) -> None:
    accounts = {k: v for k, v in US_RENTAL_ACCOUNTS.items() if k not in removed}
    setup = StoreSetup(accounts=accounts)
    totals = DayTotals.model_validate(body)
    expected = _unmapped(totals, accounts)
    if not expected:
        build_day("12", setup, totals)
        return
    with pytest.raises(TotalsRefused) as refused:
        build_day("12", setup, totals)
    named = {p.category for p in refused.value.problems if p.kind == "unmapped"}
    assert named == expected
    assert all(p.kind == "unmapped" for p in refused.value.problems)


def _unmapped(totals: DayTotals, accounts: dict[str, str]) -> set[str]:
    """Which categories with an amount have no code (an independent reading of the rule)."""
    missing = set()

    def need(key: str, amount: Decimal, fallback: str | None = None) -> None:
        if amount != 0 and key not in accounts and (fallback is None or fallback not in accounts):
            missing.add(key)

    for r in totals.revenue:
        key = f"{r.category}/{r.item_category}" if r.item_category else str(r.category)
        need(key, r.amount, str(r.category) if r.item_category else None)
    for t in totals.taxes:
        key = f"{t.kind}/{t.authority}" if t.authority else str(t.kind)
        need(key, t.amount, str(t.kind) if t.authority else None)
    for tender in totals.tenders:
        need(str(tender.type), tender.received - tender.refunded)
    need("discounts", totals.discounts)
    need("ar-payments", totals.ar_payments)
    dep = totals.deposits
    for amount in (dep.taken, dep.applied, dep.refunded, dep.forfeited):
        need("deposits-held", amount)
    need("deposits-forfeited", dep.forfeited)
    need("open-contracts", totals.open_contracts.taken)
    need("open-contracts", totals.open_contracts.released)
    need("over-short", totals.over_short)
    return missing


@settings(max_examples=examples(100), deadline=None)
@given(balanced_totals(), st.integers(501, 10**6).map(lambda c: Decimal(c) * CENTS),
       st.sets(st.sampled_from(["visa", "cash", "rental"])))
def test_unbalanced_totals_are_refused_with_the_difference_and_every_other_problem(
    body: dict, delta: Decimal, removed: set[str]
) -> None:
    body = {**body, "over_short": str(Decimal(body["over_short"]) + delta)}
    accounts = {k: v for k, v in US_RENTAL_ACCOUNTS.items() if k not in removed}
    totals = DayTotals.model_validate(body)
    with pytest.raises(TotalsRefused) as refused:
        build_day("12", StoreSetup(accounts=accounts), totals)
    kinds = [p.kind for p in refused.value.problems]
    assert kinds.count("unbalanced") == 1
    unbalanced = next(p for p in refused.value.problems if p.kind == "unbalanced")
    assert f"differ by {delta}" in unbalanced.message
    assert {p.category for p in refused.value.problems if p.kind == "unmapped"} == _unmapped(
        totals, accounts)


def test_the_example_day_balances_and_names_the_posting() -> None:
    day = build_day("12", example_store_setup(), example_totals())
    journal = make_journal("12", date(2026, 11, 27), 3, day)
    assert journal.narration == "POS totals store 12 2026-11-27 rev 3 [glb:12:2026-11-27:3]"
    assert journal.reference == "glb:12:2026-11-27:3"
    debits = sum(line.amount for line in journal.lines if line.amount > 0)
    assert debits == Decimal("2629.34") == -sum(line.amount for line in journal.lines
                                                if line.amount < 0)


def test_rounding_rule_each_figure_half_up_to_the_cent_then_balance_exactly() -> None:
    body = {"revenue": [{"category": "rental", "amount": "10.005"}],
            "tenders": [{"type": "cash", "received": "10.01"}]}
    assert DayTotals.model_validate(body).revenue[0].amount == Decimal("10.01")
    build_day("1", example_store_setup(), DayTotals.model_validate(body))
    body["tenders"][0]["received"] = "10.004"  # rounds to 10.00: one cent short
    strict = example_store_setup().model_copy(update={"over_short_tolerance": Decimal(0)})
    with pytest.raises(TotalsRefused, match=r"differ by 0\.01"):
        build_day("1", strict, DayTotals.model_validate(body))


SHORT_DAY = {"revenue": [{"category": "rental", "amount": "100.00"}],
             "taxes": [{"kind": "rental-tax", "amount": "8.25"}],
             "tenders": [{"type": "cash", "received": "107.88"}]}


def test_a_drawer_short_within_the_tolerance_posts_an_over_short_line() -> None:
    """Tenders 0.37 short of revenue + tax, no over/short figure from the POS: the
    shortage is a debit to the over/short account (tolerance 5.00 by default)."""
    day = build_day("1", example_store_setup(), DayTotals.model_validate(SHORT_DAY))
    over_short = [ln for ln in day.lines if ln.category == "over-short"]
    assert [(ln.account_code, ln.amount) for ln in over_short] == [("6900", Decimal("0.37"))]
    assert sum(ln.amount for ln in day.lines) == 0


def test_a_drawer_out_by_more_than_the_tolerance_is_refused_naming_the_difference() -> None:
    body = {**SHORT_DAY, "tenders": [{"type": "cash", "received": "103.24"}]}
    with pytest.raises(TotalsRefused, match=r"differ by 5\.01, more than the store's over/short"
                       r" tolerance of 5\.00"):
        build_day("1", example_store_setup(), DayTotals.model_validate(body))
    wider = example_store_setup().model_copy(update={"over_short_tolerance": Decimal("10")})
    assert build_day("1", wider, DayTotals.model_validate(body)).lines


def test_a_difference_within_the_tolerance_needs_an_over_short_account() -> None:
    accounts = {k: v for k, v in US_RENTAL_ACCOUNTS.items() if k != "over-short"}
    with pytest.raises(TotalsRefused) as refused:
        build_day("1", StoreSetup(accounts=accounts), DayTotals.model_validate(SHORT_DAY))
    [problem] = refused.value.problems
    assert (problem.kind, problem.category) == ("unmapped", "over-short")
    assert "0.37" in problem.message


def test_a_day_of_zeros_is_nothing_to_post_not_an_error() -> None:
    body = {"revenue": [{"category": "rental", "amount": "0"}],
            "tenders": [{"type": "cash", "received": "5", "refunded": "5"}]}
    assert build_day("1", example_store_setup(), DayTotals.model_validate(body)).nothing_to_post


def test_store_999_is_refused_as_the_consolidated_report() -> None:
    with pytest.raises(TotalsRefused) as refused:
        build_day("999", example_store_setup(), example_totals())
    assert refused.value.problems[0].kind == "consolidated-store"
    assert "count every sale twice" in refused.value.problems[0].message


def test_debit_cc_posts_with_the_credit_cards() -> None:
    setup = StoreSetup(accounts={**US_RENTAL_ACCOUNTS, "debit": "CC"})
    day = build_day("1", setup, example_totals())
    debit = next(line for line in day.lines if line.category == "debit")
    assert debit.account_code == US_RENTAL_ACCOUNTS["visa"]


def test_split_codes_override_their_category() -> None:
    setup = StoreSetup(accounts={**US_RENTAL_ACCOUNTS, "rental-tax/County": "2201"})
    day = build_day("1", setup, example_totals())
    codes = {line.category: line.account_code for line in day.lines}
    assert codes["rental-tax/County"] == "2201"
    assert codes["sales-tax/State"] == "2210"


@pytest.mark.parametrize(("template", "store", "klass", "code"), [
    ("4000-###", "12", None, "4000-012"),
    ("4000-{Store}", "12", None, "4000-12"),
    ("{Class}4000", "7", "R", "R4000"),
    ("4000", "12", None, "4000"),
])
def test_code_tags(template: str, store: str, klass: str | None, code: str) -> None:
    assert expand_code(template, store, klass) == code


@pytest.mark.parametrize(("template", "store", "klass", "why"), [
    ("4000-#", "12", None, "cannot hold store number 12"),
    ("{Class}4000", "7", None, "no store_class"),
    ("4000-{Store}", "1234567", None, "longer than"),
])
def test_code_tags_that_cannot_expand(template: str, store: str, klass: str | None,
                                      why: str) -> None:
    with pytest.raises(TagError, match=why):
        expand_code(template, store, klass)


def test_a_code_that_cannot_expand_is_named_with_its_setup_entry() -> None:
    setup = StoreSetup(accounts={**US_RENTAL_ACCOUNTS, "rental": "4000-#", "fuel": "{Class}1"})
    with pytest.raises(TotalsRefused) as refused:
        build_day("12", setup, example_totals())
    assert {tuple(p.loc) for p in refused.value.problems} == {
        ("setup", "accounts", "rental"), ("setup", "accounts", "fuel")}


def test_identical_inputs_have_one_fingerprint_and_changes_another() -> None:
    one = build_day("1", example_store_setup(), example_totals())
    assert one.fingerprint == build_day("1", example_store_setup(), example_totals()).fingerprint
    assert one.fingerprint != build_day("1", example_store_setup(), example_totals(2)).fingerprint
    body = example_day_totals()
    body["revenue"][0]["amount"] = "1250"  # the same amount written differently
    assert one.fingerprint == build_day("1", example_store_setup(),
                                        DayTotals.model_validate(body)).fingerprint
