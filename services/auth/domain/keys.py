"""The `2RF:` key: names a connection and proves possession of it.

Shape: `2RF:<connection uuid>.<secret>`, the secret 32 random bytes in URL-safe base64.
Only the SHA-256 of the secret is stored: the secret is high-entropy, so a slow hash would
add nothing, and a database leak does not leak working keys.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from uuid import UUID

from services.auth.domain.scenarios import KEY_PREFIX

_KEY = re.compile(
    r"2RF:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{43})"
)


@dataclass(frozen=True)
class ApiKey:
    connection_id: UUID
    secret: str

    def __str__(self) -> str:
        return f"{KEY_PREFIX}{self.connection_id}.{self.secret}"

    def __repr__(self) -> str:  # never print the secret by accident
        return f"ApiKey(connection_id={self.connection_id}, secret=***)"

    @property
    def secret_hash(self) -> bytes:
        return hash_secret(self.secret)


def new_key(connection_id: UUID) -> ApiKey:
    return ApiKey(connection_id, secrets.token_urlsafe(32))


def parse_key(text: str) -> ApiKey | None:
    """The key in `text` (whitespace around it ignored), or None when it is not one."""
    match = _KEY.fullmatch((text or "").strip())
    if match is None:
        return None
    return ApiKey(UUID(match.group(1)), match.group(2))


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def matches(key: ApiKey, stored_hash: bytes) -> bool:
    return hmac.compare_digest(key.secret_hash, bytes(stored_hash))
