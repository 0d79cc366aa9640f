"""What a 403 from Xero means, and what the store manager should do about it.

Xero answers 403 for three different causes (developer.xero.com "HTTP response codes";
XeroAPI/xero-mcp-server#209): `AuthenticationUnsuccessful` when the app may no longer
reach the organisation (disconnected, access revoked, organisation gone: connect again),
and `AuthorizationUnsuccessful` when the token lacks a scope the call needs (connect again
after the scope is added to the app's request) or the connected Xero user's role may not
do it: manual journals need the Adviser role, or Standard with All Reports (help.xero.com
"Manual journals"), and connecting again as the same user changes nothing.
"""

from collections.abc import Sequence

from shared.contracts.events import ErrorKind, PostingError

# The scopes (any one form) each call needs; older apps may hold the broad forms.
_JOURNALS_WRITE = ("accounting.manualjournals", "accounting.transactions")
_JOURNALS_READ = (*_JOURNALS_WRITE, "accounting.manualjournals.read",
                  "accounting.transactions.read")
_SETTINGS_READ = ("accounting.settings.read", "accounting.settings")
NEEDED_SCOPES: dict[str, tuple[str, ...]] = {
    "put": _JOURNALS_WRITE,
    "void": _JOURNALS_WRITE,
    "find": _JOURNALS_READ,
    "get": _JOURNALS_READ,
    "accounts": _SETTINGS_READ,
    "organisation": _SETTINGS_READ,
}
_WRITES = frozenset({"put", "void"})


def forbidden_error(detail: str, operation: str, granted: Sequence[str] | None) -> PostingError:
    """The error a 403 on `operation` means, given the scopes the token carries (None:
    unknown)."""
    if "AuthorizationUnsuccessful" not in detail:
        return disconnected_error(detail)
    needed = NEEDED_SCOPES.get(operation, ())
    if needed and granted is not None and not set(needed) & set(granted):
        return PostingError(
            kind=ErrorKind.SCOPE_MISSING,
            message=(
                f"The store's Xero connection lacks the scope {needed[0]}, which Xero needs"
                f" to {_purpose(operation)}. Add it to XERO_SCOPES (ask the operator), then"
                " connect the store to Xero again from Account Numbers setup."
            ),
            xero_message=detail or None,
        )
    if operation in _WRITES or granted is None:
        return PostingError(
            kind=ErrorKind.ROLE_FORBIDDEN,
            message=(
                "The Xero user who connected this store may not post manual journals: Xero"
                " needs the Adviser role, or Standard with All Reports. Ask the Xero"
                " organisation's admin to change that user's role (or connect the store as a"
                " user who has it), then post the day again."
            ),
            xero_message=detail or None,
        )
    return PostingError(
        kind=ErrorKind.ROLE_FORBIDDEN,
        message=(
            f"Xero refused to let the store's connection {_purpose(operation)}. Ask the Xero"
            " organisation's admin to check the connected user's role, then post the day"
            " again."
        ),
        xero_message=detail or None,
    )


def disconnected_error(detail: str) -> PostingError:
    return _error(ErrorKind.DISCONNECTED, detail, (
        "Xero refused access to the organisation (disconnected, or the organisation is"
        " gone): connect the store to Xero again from Account Numbers setup."))


def reauth_error(detail: str) -> PostingError:
    return _error(ErrorKind.REAUTH_NEEDED, detail, (
        "The store's Xero connection needs a new key: open Account Numbers setup, click"
        " the API Key box and connect to Xero again, then post the day again."))


def _error(kind: ErrorKind, detail: str, message: str) -> PostingError:
    return PostingError(kind=kind, message=message, xero_message=detail or None)


def _purpose(operation: str) -> str:
    if operation in ("accounts", "organisation"):
        return "read the chart of accounts and lock dates"
    if operation in _WRITES:
        return "post and void manual journals"
    return "read manual journals"
