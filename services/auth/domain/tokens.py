"""When to refresh, how long to cool down, and what the grace period allows."""

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Status(StrEnum):
    ACTIVE = "active"
    NEEDS_REAUTH = "needs-reauth"
    # Replaced by a newer connect flow for the same store: its key no longer works.
    RETIRED = "retired"
    DISCONNECTED = "disconnected"


# Xero lets a spent refresh token be used again for 30 minutes after its first use, so an
# answer lost on the way back can be fetched again. A margin keeps us off the edge.
GRACE_PERIOD = timedelta(minutes=30)
GRACE_MARGIN = timedelta(minutes=1)


class UnknownConnection(Exception):
    pass


class ReauthNeeded(Exception):
    """Permanent for the caller: the store needs a new key (a new connect flow)."""


class XeroUnavailable(Exception):
    """A refresh could not be done now; retry later."""

    def __init__(self, detail: str, retry_after_s: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class TokenSet:
    """What Xero's token endpoint answered, with the expiry on our clock."""

    access_token: str
    refresh_token: str
    expires_at: datetime
    scope: str

    def __repr__(self) -> str:
        return f"TokenSet(expires_at={self.expires_at.isoformat()}, scope={self.scope!r})"


def must_refresh(
    access_token: str | None,
    expires_at: datetime | None,
    now: datetime,
    min_validity: timedelta,
    rejected_token: str | None = None,
) -> bool:
    """True when the cached access token cannot be handed out.

    A rejected token forces a refresh only when it is the current one: otherwise a newer
    token already exists and the caller simply gets that.
    """
    if access_token is None or expires_at is None:
        return True
    if rejected_token is not None and hmac.compare_digest(
        rejected_token.encode(), access_token.encode()
    ):
        return True
    return expires_at - now < min_validity


def cooldown(failures: int, base_s: float, max_s: float) -> timedelta:
    """How long to leave a connection alone after `failures` refreshes failed in a row:
    doubling, capped, so a dead or flapping Xero is not hammered (refresh storms)."""
    if failures <= 0:
        return timedelta(0)
    return timedelta(seconds=min(max_s, base_s * 2 ** min(failures - 1, 30)))


def within_grace(first_used_at: datetime | None, now: datetime) -> bool:
    """Whether a refresh token first sent at `first_used_at` may still be sent again."""
    if first_used_at is None:
        return True
    return now - first_used_at < GRACE_PERIOD - GRACE_MARGIN


def expiry(expires_in: int | float | None, now: datetime) -> datetime:
    """The expiry on our clock; a missing lifetime counts as Xero's 30 minutes."""
    seconds = float(expires_in) if expires_in else 1800.0
    return now + timedelta(seconds=seconds)
