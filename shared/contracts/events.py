"""The events of the system. Every producer and consumer uses these models.

Money travels as decimal strings (pydantic serialises `Decimal` that way in JSON mode);
times are timezone-aware UTC; business dates are plain dates.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


def utc_now() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    """The envelope every event carries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID = Field(default_factory=uuid4)
    occurred_at: AwareDatetime = Field(default_factory=utc_now)
    # The business day's id: one value follows a day from close to outcome.
    correlation_id: str
    # The event (or request) that caused this one.
    causation_id: str | None = None


class Tracking(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    option: str = Field(min_length=1, max_length=100)


class JournalLine(BaseModel):
    """One line of a manual journal: debit positive, credit negative, as Xero wants."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    category: str = Field(description="The Account Numbers setup entry this line comes from")
    account_code: str = Field(min_length=1, max_length=10)
    amount: Decimal = Field(decimal_places=2)
    description: str = ""
    tax_type: str | None = None
    tracking: list[Tracking] = Field(default_factory=list, max_length=2)


class JournalStatus(StrEnum):
    POSTED = "POSTED"
    DRAFT = "DRAFT"


class TaxCheck(BaseModel):
    """A tax-coded journal's tax: Xero computes it on each line from the line's TaxType;
    the POS's own total must agree within `tolerance`. With Exclusive amounts the
    difference is posted to `rounding_account`, so the journal balances."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pos_tax: Decimal = Field(decimal_places=2, description="The POS's tax total for the day")
    tolerance: Decimal = Field(default=Decimal("0.05"), ge=0, decimal_places=2)
    rounding_account: str | None = Field(default=None, min_length=1, max_length=10)


class Journal(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Carries the posting reference, so a journal can be found in Xero by its narration.
    narration: str = Field(min_length=1, max_length=500)
    reference: str = Field(min_length=1, max_length=100)
    date: date
    status: JournalStatus = JournalStatus.POSTED
    line_amount_types: Literal["NoTax", "Exclusive", "Inclusive"] = "NoTax"
    lines: list[JournalLine] = Field(min_length=2)
    # A manual journal has no currency: Xero books its amounts in the organisation's
    # BaseCurrency, which must be this (the store's) currency.
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    tax: TaxCheck | None = None


class Trigger(StrEnum):
    END_OF_DAY = "end-of-day"
    MANUAL_REPRINT = "manual-reprint"


class StoreTotalsClosed(Event):
    event_type: Literal["store-totals-closed"] = "store-totals-closed"
    schema_version: Literal[1] = 1

    store_id: str
    business_date: date
    revision: int = Field(ge=1)
    trigger: Trigger
    connection_id: UUID
    tenant_id: UUID
    journal: Journal


class GlPostingSucceeded(Event):
    event_type: Literal["gl-posting-succeeded"] = "gl-posting-succeeded"
    schema_version: Literal[1] = 1

    store_id: str
    business_date: date
    revision: int = Field(ge=1)
    tenant_id: UUID
    journal_id: UUID
    already_posted: bool = False
    # The earlier revision's journal this one replaced (voided in Xero), if any.
    replaced_journal_id: UUID | None = None


class ErrorKind(StrEnum):
    UNKNOWN_ACCOUNT = "unknown-account"
    ARCHIVED_ACCOUNT = "archived-account"
    BANK_ACCOUNT = "bank-account"
    SYSTEM_ACCOUNT = "system-account"
    TAX_TYPE = "tax-type"
    LOCKED_PERIOD = "locked-period"
    UNBALANCED = "unbalanced"
    LINE_DROPPED = "line-dropped"
    VALIDATION = "validation"
    REAUTH_NEEDED = "reauth-needed"
    DISCONNECTED = "disconnected"
    # 403 AuthorizationUnsuccessful: the token lacks a scope (connect again once it is
    # requested), or the Xero user's role may not post manual journals (the admin's call).
    SCOPE_MISSING = "scope-missing"
    ROLE_FORBIDDEN = "role-forbidden"
    XERO_UNAVAILABLE = "xero-unavailable"
    RATE_LIMITED = "rate-limited"
    INVALID_EVENT = "invalid-event"
    CURRENCY = "currency"
    TAX_DIFFERENCE = "tax-difference"
    TRACKING = "tracking"


class PostingError(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ErrorKind
    category: str | None = None
    account_code: str | None = None
    # What a store manager should change, in plain words.
    message: str
    # Xero's own words, when Xero said something.
    xero_message: str | None = None
    retryable: bool = False


class GlPostingFailed(Event):
    event_type: Literal["gl-posting-failed"] = "gl-posting-failed"
    schema_version: Literal[1] = 1

    store_id: str
    business_date: date
    revision: int = Field(ge=1)
    tenant_id: UUID | None = None
    errors: list[PostingError] = Field(min_length=1)
    retryable: bool


class XeroConnectionNeedsReauth(Event):
    event_type: Literal["xero-connection-needs-reauth"] = "xero-connection-needs-reauth"
    schema_version: Literal[1] = 1

    connection_id: UUID
    tenant_id: UUID | None = None
    store_ids: list[str]
    reason: str


class XeroConnectionRestored(Event):
    event_type: Literal["xero-connection-restored"] = "xero-connection-restored"
    schema_version: Literal[1] = 1

    connection_id: UUID
    tenant_id: UUID | None = None
    store_ids: list[str]


class XeroConnected(Event):
    """A store was connected to a Xero organisation (first time or again): posting reads
    the organisation's chart of accounts ahead of its first day."""

    event_type: Literal["xero-connected"] = "xero-connected"
    schema_version: Literal[1] = 1

    connection_id: UUID
    tenant_id: UUID
    store_id: str


SYSTEM_EVENTS: tuple[type[Event], ...] = (
    StoreTotalsClosed,
    GlPostingSucceeded,
    GlPostingFailed,
    XeroConnectionNeedsReauth,
    XeroConnectionRestored,
    XeroConnected,
)


def money(value: str | int | Decimal) -> Decimal:
    """A money amount to the cent, as every contract carries it."""
    return Decimal(value).quantize(Decimal("0.01"))
