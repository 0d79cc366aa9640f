"""How a posting is recognised in Xero: its narration reference and idempotency keys."""

import hashlib
from collections.abc import Iterable
from datetime import date


def posting_reference(store_id: str, business_date: date, revision: int) -> str:
    """The reference totals puts in a journal's narration (`[glb:store:date:rev]`)."""
    return f"[glb:{store_id}:{business_date.isoformat()}:{revision}]"


# Xero documents no escape for a double quote in a `where` string literal and refuses a
# backslash-escaped one (400 QueryParseException "Syntax error": XeroAPI/Xero-Java#347), so
# the narration sent is one that never needs escaping: these characters are replaced.
_UNQUOTABLE = str.maketrans({'"': "'", "\\": "/"})


def narration_with_reference(narration: str, reference: str, limit: int = 500) -> str:
    """The narration as sent to Xero: it must carry the unique reference to be found again,
    and be quotable in a `where` filter as it is.

    Totals already puts the reference there; this only guards against a producer that did
    not.
    """
    narration, reference = narration.translate(_UNQUOTABLE), reference.translate(_UNQUOTABLE)
    if reference in narration:
        return narration
    room = limit - len(reference) - 1
    return f"{narration[:room]} {reference}"


def narration_filter(narration: str) -> str:
    """A Xero `where` expression that matches exactly this narration (one made by
    `narration_with_reference`, which never needs escaping)."""
    if narration != narration.translate(_UNQUOTABLE):
        raise ValueError(f"a narration Xero cannot filter on: {narration!r}")
    return f'Narration=="{narration}"'


def idempotency_key(posting_ids: Iterable[int], attempt_tag: str) -> str:
    """Derived from the batch, so a resend of the very same request is recognised by Xero.

    Xero allows at most 128 characters and never an empty key.
    """
    digest = hashlib.sha256()
    for posting_id in sorted(posting_ids):
        digest.update(f"{posting_id},".encode())
    digest.update(attempt_tag.encode())
    return f"glb-{digest.hexdigest()[:60]}"
