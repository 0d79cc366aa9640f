"""What auth's use cases need beyond their tables, as the adapters must provide it: the
errors Xero's identity service answers with, and a sealer for the tokens kept at rest.
`adapters/xero.py` and `adapters/cipher.py` implement them; the tests have fakes
(tests/auth/fakes.py). The Xero identity calls themselves are `XeroIdentity` in
`unit_of_work.py`."""

from typing import Protocol


class XeroError(Exception):
    """Xero could not do it now (outage, rate limit, unreadable answer): retry later."""


class InDoubt(XeroError):
    """The request may have reached Xero but its answer was lost: a refresh token sent this
    way may have been spent, and only the grace period can recover its successor."""


class InvalidGrant(Exception):
    """Xero refused the grant for good (revoked, expired or already rotated away)."""


class XeroRefused(Exception):
    """Xero refused the request itself (`invalid_client`, a bad code...): not transient."""

    def __init__(self, error: str, description: str | None) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error


class CannotOpen(Exception):
    """A sealed value that cannot be opened: damaged, or sealed under a key no longer
    configured."""


class Sealer(Protocol):
    """Seals secrets for storage (AES-256-GCM in `adapters/cipher.py`); `context` binds a
    sealed value to where it is kept, so it cannot be moved elsewhere."""

    current_id: str

    def seal(self, plaintext: str, context: str) -> str: ...

    def open(self, sealed: str, context: str) -> str: ...

    def key_id_of(self, sealed: str) -> str: ...
