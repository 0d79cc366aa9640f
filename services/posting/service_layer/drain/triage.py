"""Before anything is sent: revisions a newer one replaced, revisions waiting for an
earlier one's outcome, and postings whose attempts (or age) are spent."""

from services.posting.domain.model import State, failed, give_up_error, superseded_error
from services.posting.domain.records import Claimed, Outcome, Reschedule
from services.posting.service_layer.drain.bookkeeping import Round, after
from services.posting.service_layer.drain.policy import DrainPolicy
from services.posting.service_layer.ports import RefusedAttempts
from shared.contracts.events import ErrorKind


def supersede_or_wait(items: list[Claimed], work: Round) -> list[Claimed]:
    remaining = []
    for claimed in items:
        if claimed.newer_revision is not None:
            work.settle(Outcome(
                claimed.posting.id, State.SUPERSEDED,
                failed(claimed.posting, [superseded_error(claimed.newer_revision)]),
            ))
        elif claimed.waits_for_older:
            # An earlier revision's outcome is unknown: it is resolved first.
            work.later.append(Reschedule(
                claimed.posting.id, State.PENDING, after(1.0),
                "waiting for the earlier revision's outcome", count_attempt=False,
            ))
        else:
            remaining.append(claimed)
    return remaining


async def refused_of(refused: RefusedAttempts, items: list[Claimed], policy: DrainPolicy
                     ) -> dict[int, int]:
    """Refused (429) attempts, read only for postings near a limit (rarely any)."""
    near = [c.posting.id for c in items if c.posting.attempts >= policy.max_attempts
            or (c.age_s > policy.max_age_s and c.posting.attempts > 0)]
    return await refused.of(near)


def give_up_exhausted(items: list[Claimed], work: Round, policy: DrainPolicy,
                      by_age: bool = True, refused: dict[int, int] | None = None
                      ) -> list[Claimed]:
    remaining = []
    for claimed in items:
        spent = claimed.posting.attempts - (refused or {}).get(claimed.posting.id, 0)
        too_old = by_age and claimed.age_s > policy.max_age_s and spent > 0
        if spent >= policy.max_attempts or too_old:
            reason = f"{claimed.posting.attempts} attempts failed" + (
                f" over {claimed.age_s / 3600:.1f} hours" if too_old else "")
            error = give_up_error(claimed.posting.attempts, reason, ErrorKind.XERO_UNAVAILABLE)
            work.settle(Outcome(claimed.posting.id, State.FAILED,
                                failed(claimed.posting, [error]), last_error=reason))
            work.given_up.append((claimed.posting, reason))
        else:
            remaining.append(claimed)
    return remaining
