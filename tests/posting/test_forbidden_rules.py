"""What a 403 from Xero means, pure: Xero answers 403 `AuthenticationUnsuccessful` when the
app may no longer reach the organisation, and `AuthorizationUnsuccessful` when the token
lacks a scope or the connected user's role may not post manual journals (developer.xero.com
"HTTP response codes"; XeroAPI/xero-mcp-server#209; help.xero.com "Manual journals")."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.posting.domain.forbidden import (
    NEEDED_SCOPES,
    disconnected_error,
    forbidden_error,
    reauth_error,
)
from shared.contracts.events import ErrorKind
from tests.support.examples import examples

AUTHZ = "AuthorizationUnsuccessful"
DISCONNECTED = ("Xero refused access to the organisation (disconnected, or the organisation is"
                " gone): connect the store to Xero again from Account Numbers setup.")
ROLE = ("The Xero user who connected this store may not post manual journals: Xero needs the"
        " Adviser role, or Standard with All Reports. Ask the Xero organisation's admin to"
        " change that user's role (or connect the store as a user who has it), then post the"
        " day again.")
OPERATIONS = sorted(NEEDED_SCOPES)


def test_each_call_needs_a_granular_scope_or_its_broad_form() -> None:
    # Granular scopes from 2 March 2026; older apps may hold accounting.transactions
    # (developer.xero.com faq/granular-scopes).
    write = ("accounting.manualjournals", "accounting.transactions")
    read = (*write, "accounting.manualjournals.read", "accounting.transactions.read")
    settings = ("accounting.settings.read", "accounting.settings")
    assert NEEDED_SCOPES == {"put": write, "void": write, "find": read, "get": read,
                             "accounts": settings, "organisation": settings}


@pytest.mark.parametrize("detail", ["AuthenticationUnsuccessful", "", "Forbidden"])
@pytest.mark.parametrize("operation", [*OPERATIONS, "other"])
def test_anything_but_an_authorization_refusal_means_disconnected(detail: str,
                                                                  operation: str) -> None:
    error = forbidden_error(detail, operation, [])
    assert error == disconnected_error(detail)
    assert error.kind is ErrorKind.DISCONNECTED
    assert error.message == DISCONNECTED
    assert error.xero_message == (detail or None)
    assert not error.retryable


@pytest.mark.parametrize(("operation", "scope", "purpose"), [
    ("put", "accounting.manualjournals", "post and void manual journals"),
    ("void", "accounting.manualjournals", "post and void manual journals"),
    ("find", "accounting.manualjournals", "read manual journals"),
    ("get", "accounting.manualjournals", "read manual journals"),
    ("accounts", "accounting.settings.read", "read the chart of accounts and lock dates"),
    ("organisation", "accounting.settings.read", "read the chart of accounts and lock dates"),
])
def test_a_token_without_any_form_of_the_scope_names_the_first_form(
        operation: str, scope: str, purpose: str) -> None:
    detail = f"{AUTHZ}: scope"
    error = forbidden_error(detail, operation, ["openid", "offline_access"])
    assert error.kind is ErrorKind.SCOPE_MISSING
    assert error.message == (
        f"The store's Xero connection lacks the scope {scope}, which Xero needs to {purpose}."
        " Add it to XERO_SCOPES (ask the operator), then connect the store to Xero again from"
        " Account Numbers setup.")
    assert error.xero_message == detail


@given(st.sampled_from(OPERATIONS), st.data())
@settings(max_examples=examples(50))
def test_a_token_holding_any_form_of_the_scope_is_a_role_refusal(operation: str,
                                                                 data: st.DataObject) -> None:
    held = data.draw(st.sampled_from(NEEDED_SCOPES[operation]))
    error = forbidden_error(AUTHZ, operation, ["offline_access", held])
    assert error.kind is ErrorKind.ROLE_FORBIDDEN


@pytest.mark.parametrize("operation", ["put", "void"])
@pytest.mark.parametrize("granted", [None, ["accounting.transactions"]])
def test_a_refused_write_asks_for_the_role_that_may_post_journals(
        operation: str, granted: list[str] | None) -> None:
    error = forbidden_error(AUTHZ, operation, granted)
    assert (error.kind, error.message, error.xero_message) == (
        ErrorKind.ROLE_FORBIDDEN, ROLE, AUTHZ)


@pytest.mark.parametrize("operation", ["find", "get", "accounts", "organisation", "other"])
def test_unknown_scopes_are_taken_for_a_role_refusal(operation: str) -> None:
    # Without the token's scopes there is no telling a missing scope apart: the role is
    # what the admin can check.
    assert forbidden_error(AUTHZ, operation, None).message == ROLE


@pytest.mark.parametrize(("operation", "purpose"), [
    ("find", "read manual journals"),
    ("get", "read manual journals"),
    ("accounts", "read the chart of accounts and lock dates"),
    ("organisation", "read the chart of accounts and lock dates"),
    ("other", "read manual journals"),
])
def test_a_refused_read_with_its_scope_asks_the_admin_to_check_the_role(
        operation: str, purpose: str) -> None:
    granted = ["accounting.transactions", "accounting.settings"]
    error = forbidden_error(f"{AUTHZ} x", operation, granted)
    assert error.kind is ErrorKind.ROLE_FORBIDDEN
    assert error.message == (
        f"Xero refused to let the store's connection {purpose}. Ask the Xero organisation's"
        " admin to check the connected user's role, then post the day again.")
    assert error.xero_message == f"{AUTHZ} x"


def test_an_unnamed_operation_is_never_a_missing_scope() -> None:
    assert forbidden_error(AUTHZ, "other", []).kind is ErrorKind.ROLE_FORBIDDEN


def test_a_connection_that_needs_a_new_key_says_where_to_get_it() -> None:
    error = reauth_error("TokenExpired")
    assert (error.kind, error.xero_message, error.retryable) == (
        ErrorKind.REAUTH_NEEDED, "TokenExpired", False)
    assert error.message == (
        "The store's Xero connection needs a new key: open Account Numbers setup, click the"
        " API Key box and connect to Xero again, then post the day again.")
    assert reauth_error("").xero_message is None
