"""A day's totals as the POS sends them: a summary of the day, not its transactions.

Rounding rule: every figure is rounded to the cent once, half up, as it is read
(`12.345` becomes `12.35`). From then on the builder only adds and subtracts cents,
which `Decimal` does exactly; the rounded figures must balance to the cent and nothing
is ever plugged to make them.
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from services.totals.domain.categories import RevenueCategory, TaxKind, TenderType

CENT = Decimal("0.01")
LIMIT = Decimal("1000000000000")  # figures beyond a trillion are typing errors


def _to_cent(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a finite number")
    if abs(value) >= LIMIT:
        raise ValueError("is too large")
    return value.quantize(CENT, rounding=ROUND_HALF_UP) + Decimal("0.00")


def _tender_received(value: Decimal) -> Decimal:
    if value < 0:
        # A POS that nets refunds into one figure sends them negative: say where they go.
        raise ValueError("a tender's received amount cannot be negative: put money given "
                         "back to customers in `refunded` (a positive amount), e.g. "
                         '{"type": "cash", "received": "500.00", "refunded": "20.00"}')
    return value


def _tender_refunded(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("`refunded` is the money given back to customers, as a positive "
                         "amount (e.g. \"20.00\"), not negative")
    return value


Money = Annotated[Decimal, AfterValidator(_to_cent)]
Received = Annotated[Decimal, Field(ge=0), AfterValidator(_to_cent)]
# The schema still says "minimum 0"; the check itself names where refunds go.
_AT_LEAST_ZERO = Field(json_schema_extra={"minimum": 0})
TenderReceived = Annotated[Decimal, _AT_LEAST_ZERO, AfterValidator(_tender_received),
                           AfterValidator(_to_cent)]
TenderRefunded = Annotated[Decimal, _AT_LEAST_ZERO, AfterValidator(_tender_refunded),
                           AfterValidator(_to_cent)]
Split = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
ZERO = Decimal("0.00")


class _Figures(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RevenueFigure(_Figures):
    category: RevenueCategory
    item_category: Split | None = None
    amount: Money


class TaxFigure(_Figures):
    kind: TaxKind
    authority: Split | None = None
    amount: Money


class TenderFigure(_Figures):
    type: TenderType
    received: TenderReceived = ZERO
    refunded: TenderRefunded = ZERO


class Deposits(_Figures):
    taken: Received = ZERO
    applied: Received = ZERO
    refunded: Received = ZERO
    forfeited: Received = ZERO


class OpenContracts(_Figures):
    """Payments on contracts still open: held in suspense until the contract closes."""

    taken: Received = ZERO
    released: Received = ZERO


class DayTotals(_Figures):
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    revenue: list[RevenueFigure] = Field(default_factory=list, max_length=500)
    discounts: Money = ZERO
    taxes: list[TaxFigure] = Field(default_factory=list, max_length=200)
    tenders: list[TenderFigure] = Field(default_factory=list, max_length=50)
    ar_payments: Money = ZERO
    deposits: Deposits = Field(default_factory=Deposits)
    open_contracts: OpenContracts = Field(default_factory=OpenContracts)
    # Positive: the drawer counted more than expected (credit); negative: short (debit).
    over_short: Money = ZERO
