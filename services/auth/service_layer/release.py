"""Letting go of a connection at Xero when a store disconnects or connects again.

Xero counts an app's connections per organisation and user until they are removed
(developer.xero.com "oauth2/auth-flow": `DELETE /connections/{id}` removes one; "faq/limits"
on connection limits), so a store that leaves removes its connection, unless another of
our stores still uses that very connection (same Xero user, same organisation). Revoking
the refresh token ends every connection of that Xero user's grant, so it is done only when
no other store's connection was authorised by the same Xero user.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.auth.domain.records import ConnectionRecord
from services.auth.service_layer.ports import InvalidGrant, XeroError, XeroRefused
from services.auth.service_layer.unit_of_work import ConnectionRepository, XeroIdentity

log = logging.getLogger(__name__)

# An access token with less than this left is refreshed before it is used to remove.
_MIN_LEFT = timedelta(seconds=60)


@dataclass(frozen=True)
class Released:
    removed_at_xero: bool
    revoked_at_xero: bool
    detail: str


async def release_at_xero(
    connections: ConnectionRepository, row: ConnectionRecord, identity: XeroIdentity,
    open_token: Callable[[str], str],
) -> Released:
    """Removes `row`'s Xero connection and revokes its refresh token where no other live
    store depends on either; `open_token(column)` opens one of the row's sealed tokens."""
    if not row.refresh_token_sealed:
        return Released(False, False, "no tokens left to release at Xero")
    refresh_token = open_token("refresh_token")
    notes: list[str] = []
    removed = False
    sharing_connection = await connections.stores_sharing_xero_connection(row)
    if sharing_connection:
        notes.append("the Xero connection stays: store(s) "
                     f"{', '.join(sharing_connection)} use it too")
    elif row.xero_connection_id:
        try:
            access_token, refresh_token = await _access_token(row, identity, open_token,
                                                              refresh_token)
            await identity.delete_connection(access_token, row.xero_connection_id)
            removed = True
            notes.append("connection removed at Xero")
        except (XeroError, InvalidGrant, XeroRefused) as exc:
            log.warning("removing the connection at Xero failed: %s", exc)
            notes.append(f"connection not removed at Xero: {exc}")
    revoked = False
    sharing_user = await connections.stores_sharing_xero_user(row)
    if sharing_user:
        notes.append("not revoked at Xero: the same Xero user also connected store(s) "
                     f"{', '.join(sharing_user)}, and revoking would disconnect them too")
    else:
        try:
            await identity.revoke(refresh_token)
            revoked = True
            notes.append("revoked at Xero")
        except XeroError as exc:
            log.warning("revocation at Xero failed, tokens deleted anyway: %s", exc)
            notes.append(f"Xero could not be reached: {exc}")
    return Released(removed, revoked, "; ".join(notes))


async def _access_token(
    row: ConnectionRecord, identity: XeroIdentity, open_token: Callable[[str], str],
    refresh_token: str,
) -> tuple[str, str]:
    """A live access token of the row (refreshed if it is about to expire), and the refresh
    token that is current afterwards."""
    expires = row.access_expires_at
    if row.access_token_sealed and expires and expires - datetime.now(UTC) > _MIN_LEFT:
        return open_token("access_token"), refresh_token
    tokens = await identity.refresh(refresh_token)
    return tokens.access_token, tokens.refresh_token
