"""Properties of the rules that keep the books right: which side each figure posts to,
balance in both directions, store-number tags at their boundaries, and a day's life
(close, post, succeeded, failed, superseded) against a simple model of it."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from services.totals.domain.categories import RevenueCategory, TaxKind, TenderType
from services.totals.domain.codes import TagError, expand, expand_code
from services.totals.domain.day import (
    DayState,
    DayStatus,
    apply_failed,
    apply_succeeded,
    decide_close,
    decide_post,
)
from services.totals.domain.examples import example_store_setup
from services.totals.domain.journal import BuiltDay, TotalsRefused, build_day
from services.totals.domain.totals import DayTotals
from shared.contracts.events import (
    ErrorKind,
    GlPostingFailed,
    GlPostingSucceeded,
    JournalLine,
    JournalStatus,
    PostingError,
)
from tests.support.examples import examples

CENT = Decimal("0.01")
cents = st.integers(1, 10**8).map(lambda c: Decimal(c) * CENT)
SETUP = example_store_setup()


def _by_category(totals: DayTotals) -> dict[str, Decimal]:
    day = build_day("12", SETUP, totals)
    amounts: dict[str, Decimal] = {}
    for line in day.lines:
        amounts[line.category] = amounts.get(line.category, Decimal(0)) + line.amount
    return amounts


# --- sign conventions: revenue and liabilities credit (negative), tenders and discounts
# debit (positive), refunds reduce the tender they were paid from ---

@settings(max_examples=examples(120), deadline=None)
@given(st.sampled_from(list(RevenueCategory)), st.sampled_from(list(TaxKind)),
       st.sampled_from([t for t in TenderType if t != TenderType.ON_ACCOUNT]),
       cents, cents, st.integers(0, 100), cents, cents)
def test_each_figure_posts_to_its_side(
    revenue: RevenueCategory, tax_kind: TaxKind, tender: TenderType, sales: Decimal,
    tax: Decimal, discount_pct: int, refunded: Decimal, deposit: Decimal,
) -> None:
    discount = (sales * discount_pct / 100).quantize(CENT)
    received = sales + tax - discount + deposit + refunded
    totals = DayTotals.model_validate({
        "revenue": [{"category": revenue, "amount": str(sales)}],
        "taxes": [{"kind": tax_kind, "amount": str(tax)}],
        "discounts": str(discount),
        "tenders": [{"type": tender, "received": str(received), "refunded": str(refunded)}],
        "deposits": {"taken": str(deposit)},
    })
    lines = _by_category(totals)
    assert lines[str(revenue)] == -sales  # revenue: credit
    assert lines[str(tax_kind)] == -tax  # tax payable: a liability, credit
    assert lines["deposits-held"] == -deposit  # deposits held: a liability, credit
    assert lines[str(tender)] == received - refunded  # the drawer: debit, net of refunds
    assert lines.get("discounts", Decimal(0)) == discount  # discounts: debit


@settings(max_examples=examples(60), deadline=None)
@given(cents, cents)
def test_deposits_applied_refunded_and_forfeited_leave_the_liability(
    applied: Decimal, forfeited: Decimal
) -> None:
    totals = DayTotals.model_validate({
        "revenue": [{"category": "rental", "amount": str(applied)}],
        "deposits": {"applied": str(applied), "forfeited": str(forfeited)},
    })
    lines = _by_category(totals)
    assert lines["deposits-held"] == applied + forfeited  # debit: the liability shrinks
    assert lines["deposits-forfeited"] == -forfeited  # credit: kept as revenue
    assert lines["rental"] == -applied


@settings(max_examples=examples(60), deadline=None)
@given(st.integers(1, 9999).map(lambda c: Decimal(c) * CENT), st.booleans())
def test_an_overage_is_a_credit_and_a_shortage_a_debit(amount: Decimal, over: bool) -> None:
    counted = amount if over else -amount
    totals = DayTotals.model_validate({
        "revenue": [{"category": "rental", "amount": "100.00"}],
        "tenders": [{"type": "cash", "received": str(Decimal("100.00") + counted)}],
        "over_short": str(counted),
    })
    assert _by_category(totals)["over-short"] == -counted


# --- balance: refused whichever side is larger ---

@settings(max_examples=examples(100), deadline=None)
@given(cents, cents, st.booleans())
def test_unbalanced_either_way_is_refused(sales: Decimal, difference: Decimal,
                                          more_debits: bool) -> None:
    # A discount is one more debit, a payment on account one more credit.
    extra = {"discounts": str(difference)} if more_debits else \
        {"ar_payments": str(difference)}
    totals = DayTotals.model_validate({
        "revenue": [{"category": "rental", "amount": str(sales)}],
        "tenders": [{"type": "cash", "received": str(sales)}],
        **extra,
    })
    # With no over/short tolerance (the default 5.00 posts small differences instead).
    strict = SETUP.model_copy(update={"over_short_tolerance": Decimal(0)})
    with pytest.raises(TotalsRefused) as refused:
        build_day("12", strict, totals)
    [problem] = [p for p in refused.value.problems if p.kind == "unbalanced"]
    assert f"differ by {difference}" in problem.message


@settings(max_examples=100, deadline=None)
@given(cents, st.integers(1, 500).map(lambda c: Decimal(c) / 100), st.booleans())
def test_a_difference_within_the_tolerance_posts_to_over_short(
        sales: Decimal, difference: Decimal, more_debits: bool) -> None:
    extra = {"discounts": str(difference)} if more_debits else \
        {"ar_payments": str(difference)}
    totals = DayTotals.model_validate({
        "revenue": [{"category": "rental", "amount": str(sales)}],
        "tenders": [{"type": "cash", "received": str(sales)}],
        **extra,
    })
    day = build_day("12", SETUP, totals)
    assert sum(line.amount for line in day.lines) == 0
    [over_short] = [line for line in day.lines if line.category == "over-short"]
    assert over_short.amount == (-difference if more_debits else difference)


# --- store-number tags at their boundaries ---

@given(st.integers(1, 8), st.integers(0, 10**8 - 1))
def test_a_run_of_hashes_holds_any_store_number_as_long_as_itself(run: int, number: int) -> None:
    store = str(number)
    template = "#" * run
    if len(store) <= run:
        assert expand(template, store, None) == store.zfill(run)
    else:
        with pytest.raises(TagError):
            expand(template, store, None)


@pytest.mark.parametrize(("template", "store", "code"), [
    ("4000-###", "123", "4000-123"),  # exactly as long as the run
    ("4000-###", "7", "4000-007"),
    ("#", "9", "9"),
    ("4000{Store}", "12345", "400012345"),
    ("40-{Store}-#", "9", "40-9-9"),
])
def test_tags_expand_at_their_limits(template: str, store: str, code: str) -> None:
    assert expand_code(template, store, None) == code


@given(st.integers(1, 10), st.integers(0, 3))
@example(10, 0)  # exactly Xero's 10 characters
@example(8, 3)
def test_a_code_longer_than_xero_allows_is_refused_only_past_ten(base: int, store: int) -> None:
    template = "4" * base + "#" * store
    digits = "1" * store
    if base + store <= 10:
        assert len(expand_code(template, digits, None)) == base + store
    else:
        with pytest.raises(TagError):
            expand_code(template, digits, None)


# --- a day's life against a simple model ---

LINE = JournalLine(category="cash", account_code="1210", amount=Decimal("1.00"))
TENANT = uuid4()


def built(fingerprint: str) -> BuiltDay:
    return BuiltDay((LINE,), JournalStatus.POSTED, fingerprint)


@dataclass
class Model:
    revision: int
    fingerprint: str
    status: DayStatus
    posted_revision: int | None = None
    journal_id: UUID | None = None


class DayLife(RuleBasedStateMachine):
    """Closes, reprints and outcomes in any order; the model says what each must do."""

    def __init__(self) -> None:
        super().__init__()
        self.state: DayState | None = None
        self.model: Model | None = None

    def _event(self, revision: int) -> dict[str, object]:
        return {"correlation_id": "12:2026-11-27", "store_id": "12",
                "business_date": date(2026, 11, 27), "revision": revision,
                "tenant_id": TENANT}

    @rule(fingerprint=st.sampled_from("abcd"), auto_post=st.booleans(),
          connection_ok=st.booleans())
    def close(self, fingerprint: str, auto_post: bool, connection_ok: bool) -> None:
        decision = decide_close(self.state, built(fingerprint), auto_post, connection_ok)
        if self.model is not None and self.model.fingerprint == fingerprint:
            assert decision.outcome == "unchanged" and not decision.publish
            assert decision.state == self.state
            return
        status = (DayStatus.NOT_POSTED if not auto_post else
                  DayStatus.PENDING if connection_ok else DayStatus.WAITING_FOR_NEW_KEY)
        if self.model is None:
            self.model = Model(1, fingerprint, status)
            assert decision.outcome == "closed"
        else:
            self.model.revision += 1
            self.model.fingerprint, self.model.status = fingerprint, status
            assert decision.outcome == "amended"
        assert decision.publish == (status == DayStatus.PENDING)
        self.state = decision.state

    @precondition(lambda self: self.model is not None)
    @rule(connection_ok=st.booleans())
    def post(self, connection_ok: bool) -> None:
        assert self.state is not None and self.model is not None
        decision = decide_post(self.state, built(self.model.fingerprint), connection_ok)
        if (self.model.status == DayStatus.POSTED
                and self.model.posted_revision == self.model.revision):
            assert decision.outcome == "already-posted" and not decision.publish
            return
        self.model.status = DayStatus.PENDING if connection_ok else \
            DayStatus.WAITING_FOR_NEW_KEY
        assert decision.outcome == "queued"
        assert decision.publish == connection_ok
        self.state = decision.state

    @precondition(lambda self: self.model is not None)
    @rule(data=st.data())
    def succeeded(self, data: st.DataObject) -> None:
        assert self.state is not None and self.model is not None
        revision = data.draw(st.integers(1, self.model.revision))
        journal_id = data.draw(st.sampled_from([self.model.journal_id, uuid4()])) or uuid4()
        event = GlPostingSucceeded(**self._event(revision), journal_id=journal_id)
        after = apply_succeeded(self.state, event)
        if revision == self.model.revision:
            if (self.model.status == DayStatus.POSTED and self.model.journal_id == journal_id):
                assert after is None
                return
            self.model.status, self.model.posted_revision = DayStatus.POSTED, revision
            self.model.journal_id = journal_id
        elif revision > (self.model.posted_revision or 0):
            # An earlier revision reached Xero: noted, the current one still on its way.
            self.model.posted_revision, self.model.journal_id = revision, journal_id
        else:
            assert after is None
            return
        assert after is not None
        self.state = after

    @precondition(lambda self: self.model is not None)
    @rule(data=st.data(), needs_key=st.booleans(), superseded=st.booleans())
    def failed(self, data: st.DataObject, needs_key: bool, superseded: bool) -> None:
        assert self.state is not None and self.model is not None
        revision = data.draw(st.integers(1, self.model.revision))
        kind = ErrorKind.REAUTH_NEEDED if needs_key else ErrorKind.VALIDATION
        error = PostingError(kind=kind, message="superseded" if superseded else "refused")
        event = GlPostingFailed(**self._event(revision), errors=[error], retryable=False)
        after = apply_failed(self.state, event)
        late = (self.model.status == DayStatus.POSTED
                and self.model.posted_revision == revision)
        if revision != self.model.revision or late:
            # About a replaced revision (superseded), or after the success: changes nothing.
            assert after is None
            return
        self.model.status = DayStatus.WAITING_FOR_NEW_KEY if needs_key else DayStatus.FAILED
        assert after is not None
        self.state = after

    @invariant()
    def agrees_with_the_model(self) -> None:
        if self.model is None:
            assert self.state is None
            return
        assert self.state is not None
        assert (self.state.revision, self.state.fingerprint, self.state.status) == (
            self.model.revision, self.model.fingerprint, self.model.status)
        assert self.state.posted_revision == self.model.posted_revision
        if self.model.posted_revision is not None:
            assert self.state.journal_id == self.model.journal_id

    @invariant()
    def posted_means_the_current_revision_is_in_xero(self) -> None:
        if self.state is not None and self.state.status == DayStatus.POSTED:
            assert self.state.posted_revision == self.state.revision


DayLife.TestCase.settings = settings(max_examples=examples(150), stateful_step_count=30,
                                     deadline=None)
test_a_days_life_follows_the_model = DayLife.TestCase
