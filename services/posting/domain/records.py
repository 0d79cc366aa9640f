"""What the drain reads and writes of a posting: a claim, an outcome, a wait; the journal
an amendment replaces; what Xero's answer said of its limits."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from services.posting.domain.model import Posting, State
from shared.contracts.events import GlPostingFailed, GlPostingSucceeded, Journal


@dataclass(frozen=True)
class Claimed:
    """A posting taken for a drain, with what its day's other revisions require."""

    posting: Posting
    newer_revision: int | None
    to_void: tuple[UUID, ...]
    waits_for_older: bool
    age_s: float = 0.0
    # A new attempt of a failed day: how many, and when the last was asked for.
    reposts: int = 0
    reposted_at: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    posting_id: int
    state: State
    event: GlPostingSucceeded | GlPostingFailed | None
    journal_id: UUID | None = None
    replaced_journal_id: UUID | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class Reschedule:
    posting_id: int
    state: State
    next_attempt_at: datetime
    last_error: str
    count_attempt: bool = True


@dataclass(frozen=True)
class EarlierJournal:
    """A journal an amended day replaces, as it was posted."""

    journal_id: UUID
    revision: int
    narration: str
    journal: Journal
    tenant_id: UUID
    connection_id: UUID


@dataclass(frozen=True)
class RateInfo:
    """Xero's rate headers of an answer (X-MinLimit-Remaining, X-DayLimit-Remaining,
    X-AppMinLimit-Remaining, Retry-After, X-Rate-Limit-Problem)."""

    min_remaining: int | None = None
    day_remaining: int | None = None
    app_remaining: int | None = None
    retry_after_s: float | None = None
    problem: str | None = None
