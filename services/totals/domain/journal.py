"""Turns a day's totals and the store's setup into one balanced manual journal.

Signs follow Xero's manual journals: a debit is positive, a credit negative.
Debits: tenders net of refunds and AR charges (to clearing accounts), discounts,
deposits applied, refunded or forfeited, open-contract payments released. Credits:
revenue, tax payable, payments on account, deposits taken, open-contract payments
taken, forfeited deposits (as revenue). Over/short balances the drawer: an overage
is a credit, a shortage a debit. See `totals.py` for the rounding rule.
"""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from pydantic import TypeAdapter

from services.totals.domain.categories import (
    LABELS,
    POST_WITH_CREDIT_CARDS,
    OtherCategory,
    RevenueCategory,
)
from services.totals.domain.codes import TagError, expand, expand_code
from services.totals.domain.setup import StoreSetup
from services.totals.domain.totals import ZERO, DayTotals
from shared.contracts.events import Journal, JournalLine, JournalStatus, TaxCheck, Tracking

CONSOLIDATED_STORE = 999
# Tax-coded stores: the categories whose lines carry a tax rate (sales, and what reduces
# or forfeits them); every other line is NONE.
TAXABLE: frozenset[str] = frozenset(
    {str(c) for c in RevenueCategory} | {"discounts", "deposits-forfeited"})
_LINES = TypeAdapter(list[JournalLine])

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a day, named where it is (`loc`, as FastAPI names fields)."""

    loc: Loc
    kind: str  # unmapped | bad-code | unbalanced | consolidated-store | currency
    message: str
    category: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"loc": list(self.loc), "type": self.kind, "category": self.category,
                "msg": self.message}


@dataclass(frozen=True)
class Figure:
    """One figure of the totals as a signed amount to post, and where it came from."""

    loc: Loc
    category: str  # the setup entry (with its split, when there is one)
    fallback: str | None  # the entry to use when the split has no code of its own
    description: str
    amount: Decimal
    tax: bool = False  # a tax figure (tax-coded stores post none: Xero computes the tax)


@dataclass(frozen=True)
class BuiltDay:
    """What a day will post: no lines means nothing to post (not an error)."""

    lines: tuple[JournalLine, ...]
    status: JournalStatus
    fingerprint: str = field(default="")
    line_amount_types: str = "NoTax"
    tax: TaxCheck | None = None
    currency: str | None = None

    @property
    def nothing_to_post(self) -> bool:
        return not self.lines


class TotalsRefused(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def is_consolidated(store_id: str) -> bool:
    return store_id.isdigit() and int(store_id) == CONSOLIDATED_STORE


def posting_reference(store_id: str, business_date: date, revision: int) -> str:
    """The unique reference of one posting: posting finds a journal in Xero by it."""
    return f"glb:{store_id}:{business_date.isoformat()}:{revision}"


def build_day(store_id: str, setup: StoreSetup, totals: DayTotals) -> BuiltDay:
    """The day's journal lines, or `TotalsRefused` naming every problem at once."""
    problems: list[Problem] = []
    if is_consolidated(store_id):
        problems.append(Problem(
            ("path", "store_id"), "consolidated-store",
            "store 999 holds the consolidated totals of all stores: a report, never a "
            "posting (posting it as well as each store would count every sale twice)",
        ))
    if totals.currency is not None and totals.currency != setup.currency:
        problems.append(Problem(
            ("body", "currency"), "currency",
            f"totals are in {totals.currency} but the store's setup says {setup.currency}",
        ))
    tax_coded = setup.tax_mode == "tax-coded"
    all_figures = _over_short(list(figures(totals)), setup, problems)
    tracking = _tracking(store_id, setup, problems)
    lines = [
        line
        for figure in all_figures
        if figure.amount != ZERO and not (tax_coded and figure.tax)
        and (line := _line(figure, store_id, setup, tracking, problems)) is not None
    ]
    tax = _tax_check(store_id, setup, all_figures, problems) if tax_coded else None
    if problems:
        raise TotalsRefused(problems)
    # A day with nothing to post is the same whatever journal status the setup names.
    status = setup.journal_status if lines else JournalStatus.POSTED
    kind = _line_amount_types(setup)
    return BuiltDay(tuple(lines), setup.journal_status, fingerprint(lines, status, kind, tax),
                    kind, tax, setup.currency)


def _line_amount_types(setup: StoreSetup) -> str:
    if setup.tax_mode != "tax-coded":
        return "NoTax"
    return "Inclusive" if setup.amounts_include_tax else "Exclusive"


def _tax_check(
    store_id: str, setup: StoreSetup, all_figures: list[Figure], problems: list[Problem]
) -> TaxCheck:
    """The POS's tax total, which Xero's per-line tax must match (checked by posting
    against the organisation's rates), and where a rounding difference goes."""
    pos_tax = -sum((f.amount for f in all_figures if f.tax), ZERO)
    template = setup.accounts.get(OtherCategory.TAX_ROUNDING)
    account = None
    if template is not None:
        try:
            account = expand_code(template, store_id, setup.store_class)
        except TagError as exc:
            problems.append(Problem(("setup", "accounts", "tax-rounding"), "bad-code",
                                    f"account code {template!r} for tax-rounding: {exc}"))
    return TaxCheck(pos_tax=pos_tax, tolerance=setup.tax_tolerance, rounding_account=account)


def make_journal(
    store_id: str, business_date: date, revision: int, day: BuiltDay
) -> Journal:
    reference = posting_reference(store_id, business_date, revision)
    return Journal(
        narration=f"POS totals store {store_id} {business_date.isoformat()} rev {revision}"
        f" [{reference}]",
        reference=reference,
        date=business_date,
        status=day.status,
        lines=list(day.lines),
        line_amount_types=day.line_amount_types,
        currency=day.currency,
        tax=day.tax,
    )


def fingerprint(
    lines: list[JournalLine], status: JournalStatus, line_amount_types: str = "NoTax",
    tax: TaxCheck | None = None,
) -> str:
    """Same lines and status, same fingerprint: an identical re-close changes nothing.
    (A tax-coded day's amount type and tax check count too; a liability day's fingerprint
    is what it always was.)"""
    digest = hashlib.sha256(str(status).encode())
    digest.update(_LINES.dump_json(lines))
    if tax is not None:
        digest.update(f"{line_amount_types}{tax.model_dump_json()}".encode())
    return digest.hexdigest()


def figures(totals: DayTotals) -> Iterator[Figure]:
    for i, rev in enumerate(totals.revenue):
        yield _split(("body", "revenue", i, "amount"), rev.category, rev.item_category,
                     -rev.amount)
    yield Figure(("body", "discounts"), "discounts", None, LABELS["discounts"], totals.discounts)
    for i, tax in enumerate(totals.taxes):
        yield replace(_split(("body", "taxes", i, "amount"), tax.kind, tax.authority,
                             -tax.amount), tax=True)
    for i, tender in enumerate(totals.tenders):
        yield Figure(("body", "tenders", i), tender.type, None,
                     _label(tender.type, "net of refunds"), tender.received - tender.refunded)
    yield Figure(("body", "ar_payments"), "ar-payments", None, LABELS["ar-payments"],
                 -totals.ar_payments)
    yield from _deposits(totals)
    contracts = totals.open_contracts
    yield Figure(("body", "open_contracts", "taken"), "open-contracts", None,
                 _label("open-contracts", "taken"), -contracts.taken)
    yield Figure(("body", "open_contracts", "released"), "open-contracts", None,
                 _label("open-contracts", "released"), contracts.released)
    yield Figure(("body", "over_short"), "over-short", None, LABELS["over-short"],
                 -totals.over_short)


def _deposits(totals: DayTotals) -> Iterator[Figure]:
    deposits = totals.deposits
    held = "deposits-held"
    yield Figure(("body", "deposits", "taken"), held, None, _label(held, "taken"), -deposits.taken)
    yield Figure(("body", "deposits", "applied"), held, None, _label(held, "applied"),
                 deposits.applied)
    yield Figure(("body", "deposits", "refunded"), held, None, _label(held, "refunded"),
                 deposits.refunded)
    yield Figure(("body", "deposits", "forfeited"), held, None, _label(held, "forfeited"),
                 deposits.forfeited)
    yield Figure(("body", "deposits", "forfeited"), "deposits-forfeited", None,
                 LABELS["deposits-forfeited"], -deposits.forfeited)


def _split(loc: Loc, category: str, split: str | None, amount: Decimal) -> Figure:
    if split is None:
        return Figure(loc, category, None, LABELS[category], amount)
    return Figure(loc, f"{category}/{split}", category, _label(category, split), amount)


def _label(category: str, detail: str) -> str:
    return f"{LABELS[category]} - {detail}"


def _line(
    figure: Figure,
    store_id: str,
    setup: StoreSetup,
    tracking: list[Tracking],
    problems: list[Problem],
) -> JournalLine | None:
    entry, template = _entry(figure, setup)
    if template is None:
        names = f"'{figure.category}' or '{figure.fallback}'" if figure.fallback else \
            f"'{figure.category}'"
        problems.append(Problem(
            figure.loc, "unmapped",
            f"{figure.description} has an amount ({abs(figure.amount)}) but no account code:"
            f" set {names} in the Account Numbers setup",
            figure.category,
        ))
        return None
    if template == POST_WITH_CREDIT_CARDS:
        entry, template = "visa", setup.accounts.get("visa")
        if template is None:
            problems.append(Problem(
                figure.loc, "unmapped",
                "debit is set to CC (post with credit cards) but visa has no account code",
                figure.category,
            ))
            return None
    try:
        code = expand_code(template, store_id, setup.store_class)
    except TagError as exc:
        problems.append(Problem(("setup", "accounts", entry), "bad-code",
                                f"account code {template!r} for {entry}: {exc}", figure.category))
        return None
    return JournalLine(category=figure.category, account_code=code, amount=figure.amount,
                       description=figure.description, tracking=tracking,
                       tax_type=_tax_type(figure, setup, problems))


def _tax_type(figure: Figure, setup: StoreSetup, problems: list[Problem]) -> str | None:
    """Tax-coded stores: the rate mapped for the figure's category (or its split's
    base); NONE for lines that carry no tax. Liability stores: no tax type (NoTax)."""
    if setup.tax_mode != "tax-coded":
        return None
    base = figure.fallback or figure.category
    rate = entry_tax_rate(figure.category, setup)
    if rate is None and base in TAXABLE:
        problems.append(Problem(
            ("setup", "tax_rates", base), "unmapped-tax",
            f"{figure.description} has an amount ({abs(figure.amount)}) but no tax rate: set"
            f" tax_rates '{base}' in the Account Numbers setup to the Xero tax rate (for"
            " example OUTPUT2 for 15% GST on Income), or NONE if it carries no tax",
            figure.category,
        ))
    return rate or "NONE"


def _entry(figure: Figure, setup: StoreSetup) -> tuple[str, str | None]:
    code = setup.accounts.get(figure.category)
    if code is None and figure.fallback is not None:
        return figure.fallback, setup.accounts.get(figure.fallback)
    return figure.category, code


def _tracking(store_id: str, setup: StoreSetup, problems: list[Problem]) -> list[Tracking]:
    result = []
    for i, item in enumerate(setup.tracking):
        try:
            result.append(Tracking(name=item.name,
                                   option=expand(item.option, store_id, setup.store_class)))
        except TagError as exc:
            problems.append(Problem(("setup", "tracking", i, "option"), "bad-code",
                                    f"tracking option {item.option!r}: {exc}"))
    return result


def entry_tax_rate(entry: str, setup: StoreSetup) -> str | None:
    """The Xero tax rate a tax-coded store's lines of this entry carry (a split falls back
    to its base entry's), or None when none is mapped."""
    return setup.tax_rates.get(entry) or setup.tax_rates.get(entry.partition("/")[0])


def _over_short(
    all_figures: list[Figure], setup: StoreSetup, problems: list[Problem]
) -> list[Figure]:
    """The figures, balanced: a drawer that is out by no more than the store's over/short
    tolerance posts the difference to over/short; beyond it the day is refused naming it.
    (Amounts with tax included hold their tax: the tax figures then do not count.)"""
    inclusive = setup.tax_mode == "tax-coded" and setup.amounts_include_tax
    counted = [f for f in all_figures if not (inclusive and f.tax)]
    debits = sum((f.amount for f in counted if f.amount > 0), ZERO)
    credits = -sum((f.amount for f in counted if f.amount < 0), ZERO)
    difference = debits - credits
    if difference == ZERO:
        return all_figures
    if abs(difference) <= setup.over_short_tolerance:
        return [replace(f, amount=f.amount - difference) if f.category == "over-short" else f
                for f in all_figures]
    problems.append(Problem(
        ("body",), "unbalanced",
        f"the totals do not balance: debits {debits} (tenders, discounts, deposits "
        f"applied/refunded, ...) and credits {credits} (revenue, tax, deposits taken, "
        f"...) differ by {abs(difference)}, more than the store's over/short tolerance of"
        f" {setup.over_short_tolerance}; over/short should balance the drawer",
    ))
    return all_figures
