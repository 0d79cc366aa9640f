"""What totals' use cases ask of the world beyond their own tables: auth verifies a key,
posting checks a setup against the organisation. The adapters implement these; the
tests have in-memory ones (tests/totals/fakes.py)."""

from typing import Any, Protocol
from uuid import UUID

from services.totals.domain.records import KeyInfo


class AuthUnavailable(Exception):
    """auth did not answer usefully: the caller should try again later."""


class KeyVerifier(Protocol):
    async def verify_key(self, api_key: str) -> KeyInfo | None:
        """The key's connection as auth knows it; None for a key auth does not know."""
        ...



class CheckUnavailable(Exception):
    """The organisation could not be asked now; `str()` says why, in plain words.
    `needs_new_key`: because the store's connection needs a new key."""

    def __init__(self, reason: str, needs_new_key: bool = False) -> None:
        super().__init__(reason)
        self.needs_new_key = needs_new_key


class SetupChecker(Protocol):
    async def check(self, tenant_id: UUID, connection_id: UUID,
                    entries: list[tuple[str, str]], tracking: list[dict[str, str]],
                    currency: str | None = None, tax_rates: dict[str, str] | None = None,
                    ) -> list[dict[str, Any]]:
        """Each problem: {severity, kind, category, account_code, message, xero_message}.
        `tax_rates`: the Xero tax rate of each entry of a tax-coded store."""
