"""Where an earlier revision's journal is voided: in the organisation it was posted to.

Each posting records the organisation (Xero tenant) and connection its journal was posted
through. A store that moved to another organisation still has its earlier journals in
the first one: voiding them in the store's current organisation would find nothing there
(a 404), and taking that for "already deleted" would leave the earlier journal live.
"""

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class JournalOrigin:
    tenant_id: UUID
    # The newest connection that posted to that organisation (it may have ended).
    connection_id: UUID


def void_target(origin: JournalOrigin | None, tenant_id: UUID, connection_id: UUID
                ) -> JournalOrigin:
    """The organisation and connection to void through: the journal's own organisation;
    through the drain's connection when that is the same organisation (the journal's
    connection may have been replaced by a newer key to the same one)."""
    if origin is None or origin.tenant_id == tenant_id:
        return JournalOrigin(tenant_id, connection_id)
    return origin


# What the day's message adds (as the answer from Xero's side) when the void cannot be done.


def not_found_there(tenant_id: UUID) -> str:
    return (f"not found in organisation {tenant_id}, where it was posted: check it there "
            "and void it by hand if it is live")


def cannot_reach(tenant_id: UUID) -> str:
    return (f"it is in organisation {tenant_id}, which this store no longer connects to (it "
            "moved to another organisation): void it there by hand")
