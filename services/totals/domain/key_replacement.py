"""When a setup may replace a store's key: the store's takeover guard.

A store's first key is whoever connected it first (auth decides who may). Afterwards a
new key replaces the current one only with proof that the caller holds the store:
- its current key (`X-Api-Key`), or
- the operator's credential, or
- the new key itself, when auth says its connection replaced the one the store's
  current key names (auth let that reconnect happen only with the current key or an
  operator's one-time reconnect token).
"""

import hmac
from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class CurrentKey:
    api_key_hash: str
    connection_id: UUID


@dataclass(frozen=True)
class Replacement:
    new_hash: str
    # The connection auth says the new key's connection replaced (None: a first connect).
    new_replaces: UUID | None
    # The hash of the key in X-Api-Key, when the request carried one.
    presented_hash: str | None
    by_operator: bool


def may_replace(current: CurrentKey | None, replacement: Replacement) -> bool:
    if current is None or hmac.compare_digest(current.api_key_hash, replacement.new_hash):
        return True  # no key yet, or the same key again
    if replacement.by_operator:
        return True
    if replacement.presented_hash is not None and hmac.compare_digest(
        current.api_key_hash, replacement.presented_hash
    ):
        return True
    return replacement.new_replaces == current.connection_id
