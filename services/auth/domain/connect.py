"""The connect flow's rules: state lifetime and single use, and which organisation."""

import base64
import json
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class AttemptProblem(StrEnum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    OTHER_BROWSER = "other-browser"


@dataclass(frozen=True)
class AttemptView:
    used_at: datetime | None
    expires_at: datetime


# Attempt ids, states and pick ids are `secrets.token_urlsafe` values; anything else
# (a NUL byte, say, which PostgreSQL text refuses) cannot name one and is not looked up.
_ISSUED_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,200}")


def could_be_issued(value: str) -> bool:
    """Whether `value` has the shape of an id or state this service hands out."""
    return _ISSUED_TOKEN.fullmatch(value) is not None


def attempt_problem(attempt: AttemptView | None, now: datetime) -> AttemptProblem | None:
    """Why a callback's `state` cannot be accepted, or None when it can."""
    if attempt is None:
        return AttemptProblem.UNKNOWN
    if attempt.used_at is not None:
        return AttemptProblem.USED
    if now >= attempt.expires_at:
        return AttemptProblem.EXPIRED
    return None


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    tenant_name: str
    tenant_type: str
    xero_connection_id: str
    auth_event_id: str | None


def tenants_from_connections(body: Any) -> list[Tenant]:
    """Xero's `GET /connections` answer as tenants (organisations only)."""
    if not isinstance(body, list):
        raise ValueError("Xero's /connections answer is not a list")
    tenants = []
    for item in body:
        if not isinstance(item, dict) or not item.get("tenantId"):
            continue
        if (item.get("tenantType") or "ORGANISATION").upper() != "ORGANISATION":
            continue
        tenants.append(
            Tenant(
                tenant_id=str(item["tenantId"]),
                tenant_name=str(item.get("tenantName") or item["tenantId"]),
                tenant_type=str(item.get("tenantType") or "ORGANISATION"),
                xero_connection_id=str(item.get("id") or ""),
                auth_event_id=item.get("authEventId"),
            )
        )
    return tenants


def just_authorised(tenants: list[Tenant], auth_event_id: str | None) -> list[Tenant]:
    """The organisations this authorisation connected.

    `/connections` lists every organisation the user ever connected to the app; Xero
    advises keeping those of this authorisation's `authentication_event_id`. When that
    claim is missing or matches nothing, all are offered.
    """
    if auth_event_id:
        mine = [t for t in tenants if t.auth_event_id == auth_event_id]
        if mine:
            return mine
    return tenants


def unverified_claims(jwt: str) -> dict[str, Any]:
    """The claims of a JWT, unverified: only used to read `authentication_event_id` from a
    token we just received from Xero over TLS, never to make a security decision."""
    try:
        payload = jwt.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
