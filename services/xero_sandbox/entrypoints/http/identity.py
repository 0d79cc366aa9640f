"""Xero's identity endpoints: authorize (HTML), token, revocation, connections."""

import base64
import binascii
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.xero_sandbox.domain.model import Grant
from services.xero_sandbox.domain.state import OAuthError, PendingAuthorization, Sandbox
from services.xero_sandbox.entrypoints.http import pages
from services.xero_sandbox.entrypoints.http.common import (
    json_response,
    not_found,
    oauth_error,
    problem,
    sandbox_of,
)
from services.xero_sandbox.entrypoints.http.faults import apply_faults, drop_answer

router = APIRouter()
MAX_PENDING = 10000

KNOWN_SCOPES = frozenset(
    {
        "openid",
        "profile",
        "email",
        "offline_access",
        "accounting.transactions",
        "accounting.transactions.read",
        "accounting.settings",
        "accounting.settings.read",
        "accounting.manualjournals",
        "accounting.manualjournals.read",
        "accounting.contacts",
        "accounting.contacts.read",
        "accounting.journals.read",
        "accounting.reports.read",
        "accounting.attachments",
        "accounting.attachments.read",
        "accounting.budgets.read",
    }
)


def _redirect(uri: str, **params: str | None) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return RedirectResponse(f"{uri}{'&' if '?' in uri else '?'}{query}", status_code=302)


@router.get("/identity/connect/authorize")
async def authorize(request: Request) -> Response:
    sandbox = sandbox_of(request)
    q = request.query_params
    client = sandbox.clients.get(q.get("client_id", ""))
    if client is None:
        return HTMLResponse(pages.error_page("unauthorized_client: unknown client_id"), 400)
    redirect_uri = q.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        return HTMLResponse(pages.error_page("Invalid redirect_uri"), 400)
    state = q.get("state")
    if q.get("response_type") != "code":
        return _redirect(redirect_uri, error="unsupported_response_type", state=state)
    challenge, method = q.get("code_challenge"), q.get("code_challenge_method")
    if challenge and method != "S256":
        return _redirect(redirect_uri, error="invalid_request", state=state)
    scopes = q.get("scope", "").split()
    if not scopes or any(s not in KNOWN_SCOPES for s in scopes):
        return _redirect(redirect_uri, error="invalid_scope", state=state)
    pending = PendingAuthorization(
        secrets.token_urlsafe(16),
        client.client_id,
        redirect_uri,
        scopes,
        state,
        challenge or None,
        q.get("nonce"),
    )
    if len(sandbox.pending) >= MAX_PENDING:
        # Abandoned sign-ins: forget the oldest rather than grow without bound.
        del sandbox.pending[next(iter(sandbox.pending))]
    sandbox.pending[pending.request_id] = pending
    return HTMLResponse(pages.login_page(pending.request_id, client.client_id))


async def _pending(request: Request) -> tuple[Sandbox, PendingAuthorization | None, Any]:
    sandbox = sandbox_of(request)
    form = await request.form()
    return sandbox, sandbox.pending.get(str(form.get("request", ""))), form


@router.post("/identity/connect/authorize/login")
async def login(request: Request) -> Response:
    sandbox, pending, form = await _pending(request)
    if pending is None:
        return HTMLResponse(pages.error_page("This sign-in has expired; start again"), 400)
    user = sandbox.login(str(form.get("username", "")), str(form.get("password", "")))
    if user is None:
        page = pages.login_page(
            pending.request_id, pending.client_id, "Incorrect email or password"
        )
        return HTMLResponse(page)
    pending.email = user.email
    return HTMLResponse(
        pages.consent_page(pending.request_id, pending.client_id, user.email, pending.scopes)
    )


@router.post("/identity/connect/authorize/consent")
async def consent(request: Request) -> Response:
    sandbox, pending, form = await _pending(request)
    if pending is None or pending.email is None:
        return HTMLResponse(pages.error_page("This sign-in has expired; start again"), 400)
    if form.get("decision") != "allow":
        del sandbox.pending[pending.request_id]
        return _redirect(pending.redirect_uri, error="access_denied", state=pending.state)
    user = sandbox.users[pending.email]
    if len(user.tenant_ids) > 1:
        pending.consented = True
        orgs = [sandbox.orgs[t] for t in user.tenant_ids if t in sandbox.orgs]
        return HTMLResponse(pages.picker_page(pending.request_id, orgs))
    return _finish(sandbox, pending, list(user.tenant_ids))


@router.post("/identity/connect/authorize/organisation")
async def organisation(request: Request) -> Response:
    sandbox, pending, form = await _pending(request)
    if pending is None or pending.email is None or not pending.consented:
        return HTMLResponse(pages.error_page("This sign-in has expired; start again"), 400)
    tenant_id = str(form.get("tenant_id", ""))
    if tenant_id not in sandbox.users[pending.email].tenant_ids:
        orgs = [sandbox.orgs[t] for t in sandbox.users[pending.email].tenant_ids]
        return HTMLResponse(pages.picker_page(pending.request_id, orgs), 400)
    return _finish(sandbox, pending, [tenant_id])


def _finish(sandbox: Sandbox, pending: PendingAuthorization, tenant_ids: list[str]) -> Response:
    del sandbox.pending[pending.request_id]
    assert pending.email is not None
    grant = sandbox.grant(pending.email, pending.client_id, pending.scopes, tenant_ids)
    code = sandbox.issue_code(grant, pending.redirect_uri, pending.code_challenge, pending.nonce)
    return _redirect(
        pending.redirect_uri,
        code=code,
        scope=" ".join(pending.scopes),
        state=pending.state,
        session_state=secrets.token_urlsafe(12),
    )


def _client_credentials(request: Request, form: Any) -> tuple[str | None, str | None]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            raw = base64.b64decode(header[6:].strip()).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, _, secret = raw.partition(":")
        return unquote(client_id), unquote(secret)
    secret = form.get("client_secret")
    return form.get("client_id"), (str(secret) if secret is not None else None)


@router.post("/connect/token")
async def token(request: Request) -> Response:
    sandbox = sandbox_of(request)
    sandbox.stats.token_requests += 1
    faulted = await apply_faults(request, sandbox, None)
    if faulted is not None:
        return faulted
    form = await request.form()
    client_id, secret = _client_credentials(request, form)
    try:
        client = sandbox.authenticate_client(client_id, secret)
        kind = form.get("grant_type")
        if kind == "authorization_code":
            answer = sandbox.exchange_code(
                client,
                secret is not None,
                str(form.get("code", "")),
                _opt(form.get("redirect_uri")),
                _opt(form.get("code_verifier")),
            )
        elif kind == "refresh_token":
            answer = sandbox.refresh(client, str(form.get("refresh_token", "")))
            if sandbox.faults.lose_token_responses > 0:
                # The refresh happened here; the app never hears of it.
                sandbox.faults.lose_token_responses -= 1
                drop_answer(request)
        else:
            raise OAuthError("unsupported_grant_type")
    except OAuthError as exc:
        return oauth_error(exc.error, exc.status)
    return json_response(answer, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"})


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


@router.post("/connect/revocation")
async def revocation(request: Request) -> Response:
    sandbox = sandbox_of(request)
    form = await request.form()
    client_id, secret = _client_credentials(request, form)
    try:
        client = sandbox.authenticate_client(client_id, secret)
    except OAuthError as exc:
        return oauth_error(exc.error, exc.status)
    sandbox.revoke_refresh_token(client, str(form.get("token", "")))
    return Response(status_code=200)


def bearer_grant(request: Request, sandbox: Sandbox) -> tuple[Grant | None, Response | None]:
    """The grant behind the request's access token, or Xero's 401/403 answer."""
    header = request.headers.get("authorization", "")
    if not header[:7].lower() == "bearer ":
        return None, problem(401, "Unauthorized", "AuthenticationUnsuccessful")
    claims = request.app.state.tokens.decode(header[7:].strip())
    if claims is None:
        return None, problem(401, "Unauthorized", "AuthenticationUnsuccessful")
    if claims.get("exp", 0) <= sandbox.clock.timestamp():
        return None, problem(
            401, "Unauthorized", f"TokenExpired: token expired at {_ts(claims.get('exp', 0))}"
        )
    grant = sandbox.grants.get(str(claims.get("authentication_event_id")))
    if grant is None or grant.revoked:
        return None, problem(403, "Forbidden", "AuthenticationUnsuccessful")
    return grant, None


def _ts(exp: float) -> str:
    return datetime.fromtimestamp(exp, UTC).strftime("%m/%d/%Y %H:%M:%S")


def _xero_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


@router.get("/connections")
async def connections(request: Request) -> Response:
    sandbox = sandbox_of(request)
    grant, refused = bearer_grant(request, sandbox)
    if grant is None:
        return refused or not_found()
    # xero-identity.yaml: the optional `authEventId` query narrows the list to the
    # connections one authorisation made.
    auth_event = request.query_params.get("authEventId")
    rows = [
        {
            "id": c.id,
            "authEventId": c.auth_event_id,
            "tenantId": c.tenant_id,
            "tenantType": "ORGANISATION",
            "tenantName": sandbox.orgs[c.tenant_id].name,
            "createdDateUtc": _xero_time(c.created),
            "updatedDateUtc": _xero_time(c.updated),
        }
        for c in sandbox.connections_of(grant)
        if c.tenant_id in sandbox.orgs and auth_event in (None, c.auth_event_id)
    ]
    return json_response(rows)


@router.delete("/connections/{connection_id}")
async def delete_connection(connection_id: str, request: Request) -> Response:
    sandbox = sandbox_of(request)
    grant, refused = bearer_grant(request, sandbox)
    if grant is None:
        return refused or not_found()
    conn = sandbox.connections.get(connection_id)
    if conn is None or (conn.email, conn.client_id) != (grant.email, grant.client_id):
        return not_found()
    sandbox.remove_connection(connection_id)
    return Response(status_code=204)
