"""Who may connect a store: the proof a reconnect needs, and when a connect moves a store.

A store with no live connection may be connected by whoever runs the POS's first setup
(scenario `new`, or an old OAuth 1.0a token: nothing in our hands proves ownership yet).
A store with a live connection (active or needing a new key) is reconnected only by
someone who holds its current `2RF:` key, or a one-time reconnect token the operator
issued for the store (its key was lost). Moving a store to another Xero organisation than
its last connection's is a separate, confirmed step.
"""

import hashlib
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

RECONNECT_TOKEN_PREFIX = "2RT:"
_RECONNECT_TOKEN = re.compile(r"2RT:[A-Za-z0-9_-]{43}")


class Proof(StrEnum):
    NONE = "none"  # the store had no live connection
    KEY = "key"  # its current 2RF: key
    RECONNECT_TOKEN = "reconnect-token"  # a one-time token the operator issued


class ProofRequired(Exception):
    """The store is connected and the request proves nothing: `str()` says what to send."""


class TooManyAttempts(Exception):
    """The store has as many open connect links as allowed: `str()` says what to do."""


PROOF_REQUIRED = (
    "store {store} is connected to Xero: connecting it again needs its current 2RF: key "
    "in api_key, or a one-time reconnect token from the operator in reconnect_token "
    "(`glbridge ops reconnect-token --store {store}`, or the ops page)"
)


@dataclass(frozen=True)
class LiveConnection:
    connection_id: UUID
    key_matches: bool  # the presented key is this connection's key


def required_proof(
    store_id: str, live: LiveConnection | None, token_accepted: bool
) -> Proof:
    """The proof this setup carries; ProofRequired when the store is connected and the
    request holds neither its key nor a valid reconnect token."""
    if live is None:
        return Proof.NONE
    if live.key_matches:
        return Proof.KEY
    if token_accepted:
        return Proof.RECONNECT_TOKEN
    raise ProofRequired(PROOF_REQUIRED.format(store=store_id))


def still_proved(proved: UUID | None, live_now: UUID | None) -> bool:
    """A connect finishes only while the store's live connection is the one its setup
    proved (none for a first connection): otherwise the store was connected or
    reconnected by someone else meanwhile."""
    return proved == live_now


def is_move(previous_tenant_id: UUID | None, new_tenant_id: UUID) -> bool:
    """Whether connecting to `new_tenant_id` moves the store to another organisation."""
    return previous_tenant_id is not None and previous_tenant_id != new_tenant_id


def new_reconnect_token() -> str:
    return RECONNECT_TOKEN_PREFIX + secrets.token_urlsafe(32)


def reconnect_token_hash(token: str) -> bytes | None:
    """The stored hash of a well-formed token; None for anything else (never looked up)."""
    text = (token or "").strip()
    if not _RECONNECT_TOKEN.fullmatch(text):
        return None
    return hashlib.sha256(text.encode()).digest()
