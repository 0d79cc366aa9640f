"""A closed day's life: revisions, posting status, and what each outcome changes.

Pure decisions: the repository reads the current state, asks here, and writes.
"""

from dataclasses import dataclass, replace
from enum import StrEnum
from uuid import UUID

from services.totals.domain.journal import BuiltDay
from shared.contracts.events import ErrorKind, GlPostingFailed, GlPostingSucceeded


class DayStatus(StrEnum):
    NOT_POSTED = "not-posted"  # closed; automatic posting is off: waits for a manual post
    PENDING = "pending"  # published; the outcome is not known yet
    POSTED = "posted"
    FAILED = "failed"
    WAITING_FOR_NEW_KEY = "waiting-for-new-key"
    NOTHING_TO_POST = "nothing-to-post"


# Statuses that end a POS's wait: everything but pending.
SETTLED = frozenset(set(DayStatus) - {DayStatus.PENDING})
NEEDS_NEW_KEY = frozenset({ErrorKind.REAUTH_NEEDED, ErrorKind.DISCONNECTED,
                           ErrorKind.SCOPE_MISSING})


@dataclass(frozen=True)
class DayState:
    revision: int
    fingerprint: str
    status: DayStatus
    posted_revision: int | None = None
    journal_id: UUID | None = None
    replaced_journal_id: UUID | None = None
    errors: tuple[dict[str, object], ...] = ()
    retryable: bool | None = None


@dataclass(frozen=True)
class Decision:
    """What to write: `state` is the day afterwards; `publish` says whether its journal
    goes out (store-totals-closed); `outcome` is what the caller is told."""

    outcome: str  # closed | amended | unchanged | queued | already-posted | nothing-to-post
    state: DayState
    publish: bool = False
    changed: bool = True


def _target(publish: bool, connection_ok: bool) -> DayStatus:
    if not publish:
        return DayStatus.NOT_POSTED
    # Held, not published, while the connection needs a new key: it goes when restored.
    return DayStatus.PENDING if connection_ok else DayStatus.WAITING_FOR_NEW_KEY


def decide_close(
    current: DayState | None, day: BuiltDay, auto_post: bool, connection_ok: bool = True
) -> Decision:
    if current is not None and current.fingerprint == day.fingerprint:
        return Decision("unchanged", current, changed=False)
    if day.nothing_to_post and current is not None and _reached_xero(current):
        # store-totals-closed cannot carry an empty journal, so it could not replace the
        # one in Xero: refuse rather than leave the ledger holding totals we no longer have.
        return Decision("refused-empty-amendment", current, changed=False)
    revision = 1 if current is None else current.revision + 1
    base = current or DayState(revision, day.fingerprint, DayStatus.NOT_POSTED)
    outcome = "closed" if current is None else "amended"
    if day.nothing_to_post:
        status = DayStatus.NOTHING_TO_POST
    else:
        status = _target(auto_post, connection_ok)
    state = replace(base, revision=revision, fingerprint=day.fingerprint, status=status,
                    errors=(), retryable=None)
    return Decision(outcome, state, publish=status == DayStatus.PENDING)


def _reached_xero(state: DayState) -> bool:
    return state.posted_revision is not None or state.status == DayStatus.PENDING


def decide_post(current: DayState, day: BuiltDay, connection_ok: bool = True) -> Decision:
    """A manager asked to post the day (reprint with "post to Xero")."""
    if current.fingerprint != day.fingerprint:
        # The totals or the setup changed since the close: a new revision replaces it.
        decision = decide_close(current, day, auto_post=True, connection_ok=connection_ok)
        return replace(decision, outcome="nothing-to-post" if day.nothing_to_post else "queued")
    if current.status == DayStatus.NOTHING_TO_POST:
        return Decision("nothing-to-post", current, changed=False)
    if current.status == DayStatus.POSTED and current.posted_revision == current.revision:
        return Decision("already-posted", current, changed=False)
    status = _target(True, connection_ok)
    state = replace(current, status=status, errors=(), retryable=None)
    return Decision("queued", state, publish=status == DayStatus.PENDING)


def apply_succeeded(current: DayState, event: GlPostingSucceeded) -> DayState | None:
    """The day after a success, or None when the event changes nothing (older, repeated)."""
    if event.revision == current.revision:
        if current.status == DayStatus.POSTED and current.journal_id == event.journal_id:
            return None
        return replace(current, status=DayStatus.POSTED, journal_id=event.journal_id,
                       posted_revision=event.revision,
                       replaced_journal_id=event.replaced_journal_id, errors=(), retryable=None)
    if event.revision > (current.posted_revision or 0) and event.revision < current.revision:
        # An earlier revision reached Xero; the current one is still on its way.
        return replace(current, journal_id=event.journal_id, posted_revision=event.revision)
    return None


def apply_failed(current: DayState, event: GlPostingFailed) -> DayState | None:
    if event.revision != current.revision:
        return None  # about a revision that has been replaced
    if current.status == DayStatus.POSTED and current.posted_revision == event.revision:
        return None  # a late failure after the success: the success stands
    needs_key = any(error.kind in NEEDS_NEW_KEY for error in event.errors)
    status = DayStatus.WAITING_FOR_NEW_KEY if needs_key else DayStatus.FAILED
    errors = tuple(error.model_dump(mode="json") for error in event.errors)
    return replace(current, status=status, errors=errors, retryable=event.retryable)


# Who can remove the cause of a failure, by the kind of its errors (the first owner found
# in this order heads the message: a connection problem hides every other one).
_OWNERS: tuple[tuple[str, frozenset[str], str], ...] = (
    ("the connection", frozenset({ErrorKind.REAUTH_NEEDED, ErrorKind.DISCONNECTED}),
     "connect the store to Xero again (Account Numbers setup, API Key box), then post"),
    ("Xero unavailable", frozenset({ErrorKind.XERO_UNAVAILABLE, ErrorKind.RATE_LIMITED}),
     "nothing to fix: post the day again later"),
    ("Xero organisation settings", frozenset({ErrorKind.LOCKED_PERIOD}),
     "ask your accountant to move the lock date in Xero, then post the day again"),
    ("the day's totals", frozenset({ErrorKind.UNBALANCED}),
     "check the day's totals at the POS, then close or reprint the day"),
)
_SETUP = ("Account Numbers setup",
          "fix the entries named below in the setup or in Xero's chart of accounts, then "
          "post the day again")


def cause_owner(errors: tuple[dict[str, object], ...]) -> tuple[str, str]:
    """(whose the cause is, what to do): the first of the day's errors' owners."""
    kinds = {str(error.get("kind")) for error in errors}
    for owner, owned, advice in _OWNERS:
        if kinds & owned:
            return owner, advice
    return _SETUP


def message(state: DayState) -> str:
    """What the POS shows, in words a store manager can act on."""
    match state.status:
        case DayStatus.POSTED:
            replaced = (f"; it replaces journal {state.replaced_journal_id}, which was voided"
                        " in Xero" if state.replaced_journal_id else "")
            return f"Posted to Xero (journal {state.journal_id}){replaced}."
        case DayStatus.PENDING:
            return "Sent to Xero; waiting for the result."
        case DayStatus.NOT_POSTED:
            return "Closed, not posted (automatic posting is off): reprint and post to Xero."
        case DayStatus.NOTHING_TO_POST:
            return "Nothing to post for this day."
        case DayStatus.WAITING_FOR_NEW_KEY:
            return ("The Xero connection needs a new key: open the Account Numbers setup, "
                    "connect to Xero again and paste the new 2RF: key. The day posts then.")
        case DayStatus.FAILED:
            owner, advice = cause_owner(state.errors)
            return (f"{_still_live(state)}Posting failed ({len(state.errors)} error(s)),"
                    f" to be fixed in: {owner}. What to do: {advice}.")
    return str(state.status)


def _still_live(state: DayState) -> str:
    """A refused amendment: the earlier revision was not voided and is still in Xero."""
    if state.posted_revision is None or state.posted_revision >= state.revision:
        return ""
    return (f"Amendment refused, revision {state.posted_revision} still in Xero"
            f" (journal {state.journal_id}). ")
