"""How a posting is recognised in Xero: its narration reference and idempotency keys."""

import hashlib
from collections.abc import Iterable
from datetime import date


def posting_reference(store_id: str, business_date: date, revision: int) -> str:
    """The reference totals puts in a journal's narration (`[glb:store:date:rev]`)."""
    return f"[glb:{store_id}:{business_date.isoformat()}:{revision}]"


def narration_with_reference(narration: str, reference: str, limit: int = 500) -> str:
    """The narration as sent to Xero: it must carry the unique reference to be found again.

    Totals already puts it there; this only guards against a producer that did not.
    """
    if reference in narration:
        return narration
    room = limit - len(reference) - 1
    return f"{narration[:room]} {reference}"


def narration_filter(narration: str) -> str:
    """A Xero `where` expression that matches exactly this narration."""
    escaped = narration.replace("\\", "\\\\").replace('"', '\\"')
    return f'Narration=="{escaped}"'


def idempotency_key(posting_ids: Iterable[int], attempt_tag: str) -> str:
    """Derived from the batch, so a resend of the very same request is recognised by Xero.

    Xero allows at most 128 characters and never an empty key.
    """
    digest = hashlib.sha256()
    for posting_id in sorted(posting_ids):
        digest.update(f"{posting_id},".encode())
    digest.update(attempt_tag.encode())
    return f"glb-{digest.hexdigest()[:60]}"
