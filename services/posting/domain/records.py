"""What the drain reads and writes of a posting: a claim, an outcome, a wait."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from services.posting.domain.model import Posting, State
from shared.contracts.events import GlPostingFailed, GlPostingSucceeded


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
