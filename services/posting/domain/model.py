"""A posting: one revision of one store's business day on its way to Xero."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any, Protocol
from uuid import UUID

from shared.contracts.events import (
    ErrorKind,
    GlPostingFailed,
    GlPostingSucceeded,
    Journal,
    PostingError,
    StoreTotalsClosed,
)

from .reference import narration_with_reference


class EarlierRevision(Protocol):
    """An earlier revision's journal still in Xero."""

    @property
    def revision(self) -> int: ...
    @property
    def journal_id(self) -> UUID: ...


class State(StrEnum):
    PENDING = "pending"  # recorded, not sent (or known not to have reached Xero)
    IN_FLIGHT = "in_flight"  # sent or about to be: the outcome in Xero is unknown
    POSTED = "posted"
    FAILED = "failed"
    SUPERSEDED = "superseded"  # a newer revision of the day arrived first

    @property
    def settled(self) -> bool:
        return self in {State.POSTED, State.FAILED, State.SUPERSEDED}


@dataclass(frozen=True)
class Posting:
    """`document` is the stored `store-totals-closed` event, its journal parsed only while
    needed: drains hold hundreds of postings across slow Xero calls, and a parsed journal
    of 26 lines takes ~33 KB where its JSON takes ~4 KB."""

    id: int
    store_id: str
    business_date: date
    revision: int
    tenant_id: UUID
    connection_id: UUID
    event_id: UUID
    correlation_id: str
    document: str
    state: State
    attempts: int

    @classmethod
    def of_event(cls, event: StoreTotalsClosed, posting_id: int, state: State,
                 attempts: int) -> "Posting":
        """A posting made from an event in hand (its journal already parsed)."""
        posting = cls(posting_id, event.store_id, event.business_date, event.revision,
                      event.tenant_id, event.connection_id, event.event_id,
                      event.correlation_id, "", state, attempts)
        posting.__dict__["journal"] = event.journal
        return posting

    @cached_property
    def journal(self) -> Journal:
        return StoreTotalsClosed.model_validate_json(self.document).journal

    @cached_property
    def narration(self) -> str:
        return narration_with_reference(self.journal.narration, self.journal.reference)

    def forget_journal(self) -> None:
        """Drops the parsed journal (parsed again if asked for); the narration stays."""
        if self.document:
            self.__dict__.pop("journal", None)


def narration_of(event: StoreTotalsClosed) -> str:
    return narration_with_reference(event.journal.narration, event.journal.reference)


def journal_payload(journal: Journal, narration: str) -> dict[str, Any]:
    """A ManualJournal as Xero's API takes it (amounts stay `Decimal`)."""
    lines: list[dict[str, Any]] = []
    for line in journal.lines:
        item: dict[str, Any] = {"LineAmount": line.amount, "AccountCode": line.account_code}
        if line.description:
            item["Description"] = line.description
        if line.tax_type:
            item["TaxType"] = line.tax_type
        if line.tracking:
            item["Tracking"] = [{"Name": t.name, "Option": t.option} for t in line.tracking]
        lines.append(item)
    return {
        "Narration": narration,
        "Date": journal.date.isoformat(),
        "Status": journal.status.value,
        "LineAmountTypes": journal.line_amount_types,
        "JournalLines": lines,
    }


def _the_day(posting: Posting, causation_id: str | None) -> dict[str, Any]:
    """What every outcome says about its day: which one, and what caused the outcome."""
    return {
        "correlation_id": posting.correlation_id,
        "causation_id": causation_id or str(posting.event_id),
        "store_id": posting.store_id,
        "business_date": posting.business_date,
        "revision": posting.revision,
        "tenant_id": posting.tenant_id,
    }


def succeeded(
    posting: Posting,
    journal_id: UUID,
    already_posted: bool = False,
    replaced: UUID | None = None,
    causation_id: str | None = None,
) -> GlPostingSucceeded:
    return GlPostingSucceeded(
        **_the_day(posting, causation_id),
        journal_id=journal_id,
        already_posted=already_posted,
        replaced_journal_id=replaced,
    )


def failed(
    posting: Posting, errors: list[PostingError], causation_id: str | None = None
) -> GlPostingFailed:
    return GlPostingFailed(
        **_the_day(posting, causation_id),
        errors=errors,
        retryable=any(e.retryable for e in errors),
    )


def superseded_error(newer_revision: int) -> PostingError:
    return PostingError(
        kind=ErrorKind.VALIDATION,
        message=(
            f"Not posted: revision {newer_revision} of this day arrived first and replaces"
            " this one. Nothing to do."
        ),
    )


def amendment_refused_error(live: "EarlierRevision | UUID") -> PostingError:
    """Added to a refused amendment: the earlier journal was not touched."""
    which = (f"revision {live.revision} still in Xero (journal {live.journal_id})"
             if not isinstance(live, UUID) else f"the earlier journal {live} still in Xero")
    return PostingError(
        kind=ErrorKind.VALIDATION,
        message=(
            f"Amendment refused, {which}: it stays live until this revision posts. Fix the"
            " errors above, then post the day again."
        ),
    )


def unvoided_error(
    posted: UUID, live: "EarlierRevision | UUID", xero_message: str | None
) -> PostingError:
    """The amendment is in Xero but its earlier journal could not be voided."""
    earlier = live if isinstance(live, UUID) else live.journal_id
    which = "" if isinstance(live, UUID) else f" (revision {live.revision})"
    return PostingError(
        kind=ErrorKind.VALIDATION,
        message=(
            f"This revision is in Xero as journal {posted}, but the earlier journal"
            f" {earlier}{which} could not be voided, so both are live. Void {earlier} in Xero"
            " by hand (or ask your accountant to unlock its period)."
        ),
        xero_message=xero_message,
    )


def give_up_error(attempts: int, reason: str, kind: ErrorKind) -> PostingError:
    return PostingError(
        kind=kind,
        message=(
            f"Xero could not be reached after {attempts} attempts ({reason}). Nothing was"
            " posted; post the day again later."
        ),
        retryable=True,
    )


def total(journal: Journal) -> Decimal:
    return sum((line.amount for line in journal.lines if line.amount > 0), Decimal("0"))
