"""What an earlier attempt may already have done: postings left in flight (a crash, a
timeout) are looked up in Xero by narration before anything is sent again."""

import logging
from collections.abc import Sequence
from uuid import UUID

from services.posting.domain.batching import chunks
from services.posting.domain.model import State
from services.posting.domain.outcome import JournalResult
from services.posting.domain.records import Claimed, Reschedule
from services.posting.domain.reference import narration_filter
from services.posting.domain.retry import backoff_s
from services.posting.metrics import LOOKUPS_REFUSED
from services.posting.service_layer.drain.bookkeeping import Round, after
from services.posting.service_layer.drain.policy import DrainPolicy
from services.posting.service_layer.drain.voids import Voids
from services.posting.service_layer.ports import Gateway, XeroRefused

log = logging.getLogger(__name__)


class InFlightLookup:
    def __init__(self, gateway: Gateway, voids: Voids, policy: DrainPolicy) -> None:
        self.gateway = gateway
        self.voids = voids
        self.policy = policy

    async def resolve(
        self, tenant_id: UUID, connection_id: UUID, items: list[Claimed], work: Round
    ) -> list[Claimed]:
        """The postings still to send: those found in Xero are settled (their earlier
        revisions voided), those whose lookup Xero refused wait in flight."""
        unknown = [c for c in items if c.posting.state == State.IN_FLIGHT]
        if not unknown:
            return items
        found: dict[str, JournalResult] = {}
        in_doubt: set[int] = set()
        for group in chunks(unknown, self.policy.lookup_chunk):
            where = " OR ".join(narration_filter(c.posting.narration) for c in group)
            try:
                results = await self.gateway.call(
                    "find", tenant_id, connection_id,
                    lambda token, where=where: self.gateway.xero.find_journals(  # type: ignore[misc]
                        token, tenant_id, where
                    ),
                )
            except XeroRefused as exc:
                # These journals may be in Xero: never failed, never sent again unseen.
                self._in_doubt(group, work, exc)
                in_doubt.update(c.posting.id for c in group)
                continue
            found.update({r.narration: r for r in results if r.journal_id is not None})
        remaining = []
        for claimed in items:
            if claimed.posting.id in in_doubt:
                continue
            hit = found.get(claimed.posting.narration)
            if claimed.posting.state == State.IN_FLIGHT and hit is not None:
                assert hit.journal_id is not None
                log.info("posting %s was already in Xero as %s", claimed.posting.id,
                         hit.journal_id)
                await self.voids.accepted(tenant_id, connection_id, claimed, hit.journal_id,
                                          work, already_posted=True)
            else:
                remaining.append(claimed)
        return remaining

    def _in_doubt(self, group: Sequence[Claimed], work: Round, exc: XeroRefused) -> None:
        LOOKUPS_REFUSED.inc()
        reason = (f"in doubt: Xero refused the lookup of a journal that may be in Xero ({exc});"
                  " looked up again later")
        log.warning("lookup refused for postings %s: %s", [c.posting.id for c in group], exc)
        for claimed in group:
            delay = backoff_s(claimed.posting.attempts + 1, self.policy.backoff_base_s,
                              self.policy.backoff_cap_s)
            work.later.append(Reschedule(claimed.posting.id, State.IN_FLIGHT, after(delay),
                                         reason, count_attempt=False))
