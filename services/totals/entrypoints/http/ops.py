"""The ops monitor: a page (and its JSON twin) of queues, dead letters, failed days, held
days and outbox lag, with two actions: replay dead letters, retry a failed day.

Behind a credential: `OPS_TOKEN` (its own, never a service's), presented either as
`Authorization: Bearer ...` (scripts) or through the login form, which opens a session:
a random cookie (HttpOnly, SameSite=Strict, `Secure` with OPS_COOKIE_SECURE) whose hash
is kept in PostgreSQL until it expires (OPS_SESSION_TTL_S) or the person signs out.
Actions and sign-out are POSTs; from the page they also carry the session's own form
token, so no other site can make a browser post them.
"""

import hmac
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from services.totals.adapters.ops_reader import BrokerUnavailable, OpsReader
from services.totals.adapters.ops_sessions import OpsSessions
from services.totals.domain.journal import TotalsRefused
from services.totals.entrypoints.http.deps import STORE_ID, Wired
from services.totals.entrypoints.http.views import post_view
from services.totals.service_layer.days import DayNotFound
from services.totals.service_layer.ports import AuthUnavailable
from shared.contracts.stores import STORE_ID_RULE, StoreIdText

router = APIRouter(prefix="/ops", tags=["ops"])

COOKIE = "glbridge_ops"
TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).resolve().parents[2] / "templates"),
    autoescape=True,
)


# --- the credential -------------------------------------------------------------------


def _token(wired: Wired) -> bytes:
    return wired.settings.ops_token.get_secret_value().encode()


def presents_ops_bearer(request: Request, wired: Wired) -> bool:
    """Whether the request carries the ops credential as `Authorization: Bearer`."""
    scheme, _, presented = (request.headers.get("authorization") or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.encode(), _token(wired))


@dataclass(frozen=True)
class Caller:
    """How the caller proved itself: `bearer` (scripts; no form token needed) or `cookie`
    (a signed-in browser, whose POSTs carry its session's form token)."""

    how: str
    form_token: str = ""


def _sessions(request: Request) -> OpsSessions:
    sessions: OpsSessions = request.app.state.ops_sessions
    return sessions


async def _authenticated(request: Request, wired: Wired) -> Caller | None:
    if presents_ops_bearer(request, wired):
        return Caller("bearer")
    cookie = request.cookies.get(COOKIE, "")
    if cookie and len(cookie) <= 100:
        session = await _sessions(request).find(cookie)
        if session is not None:
            return Caller("cookie", session.form_token)
    return None


async def require_ops(request: Request, wired: Wired) -> Caller:
    caller = await _authenticated(request, wired)
    if caller is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            detail="the ops credential is required (Authorization: Bearer "
                            "<OPS_TOKEN>, or sign in at /ops/login)",
                            headers={"WWW-Authenticate": "Bearer"})
    return caller


OpsCaller = Annotated[Caller, Depends(require_ops)]


def _check_form_token(caller: Caller, presented: str | None, wired: Wired) -> None:
    if caller.how == "cookie" and not hmac.compare_digest(presented or "", caller.form_token):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail="form token missing or wrong: reload /ops and try again")


def _reader(request: Request) -> OpsReader:
    reader: OpsReader = request.app.state.ops
    return reader


# --- sign in --------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
async def login_page() -> HTMLResponse:
    return HTMLResponse(TEMPLATES.get_template("ops_login.html").render(error=None))


@router.post("/login", include_in_schema=False)
async def login(request: Request, wired: Wired,
                token: Annotated[str, Form(max_length=500)] = "") -> Response:
    if not hmac.compare_digest(token.strip().encode(), _token(wired)):
        return HTMLResponse(TEMPLATES.get_template("ops_login.html").render(
            error="That token is not the ops token."), status_code=401)
    ttl = timedelta(seconds=wired.settings.ops_session_ttl_s)
    cookie, _ = await _sessions(request).open(ttl)
    response = RedirectResponse("/ops", status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(COOKIE, cookie, httponly=True, samesite="strict", path="/ops",
                        secure=wired.settings.ops_cookie_secure or request.url.scheme == "https",
                        max_age=int(ttl.total_seconds()))
    return response


@router.post("/logout", include_in_schema=False)
async def logout(request: Request, caller: OpsCaller, wired: Wired,
                 csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Ends the session on the server (its cookie no longer opens anything)."""
    _check_form_token(caller, csrf, wired)
    if caller.how == "cookie":
        await _sessions(request).close(request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/ops/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE, path="/ops")
    return response


# --- the page and its JSON twin ---------------------------------------------------------


@router.get("", response_class=HTMLResponse, include_in_schema=False)
async def page(request: Request, wired: Wired) -> Response:
    caller = await _authenticated(request, wired)
    if caller is None:
        return RedirectResponse("/ops/login", status_code=status.HTTP_303_SEE_OTHER)
    # What the last action said comes from the session, never from the URL: a link
    # cannot make the page show words of its author's choosing.
    flash = None
    if caller.how == "cookie":
        flash = await _sessions(request).take_flash(request.cookies.get(COOKIE, ""))
    notice = flash[0] if flash and not flash[1] else None
    error = flash[0] if flash and flash[1] else None
    return await _page(request, wired, caller, notice=notice, error=error)


async def _page(request: Request, wired: Wired, caller: Caller, **context: Any
                ) -> HTMLResponse:
    html = TEMPLATES.get_template("ops.html").render(
        data=await _snapshot(request, wired), csrf=caller.form_token,
        refresh_s=wired.settings.ops_refresh_s, **context)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


async def _snapshot(request: Request, wired: Wired) -> dict[str, Any]:
    data = await _reader(request).snapshot()
    try:
        data["store_moves"] = await wired.auth.store_moves()
    except AuthUnavailable as exc:
        data["store_moves"] = []
        data["problems"].append(f"auth (store moves): {exc}")
    return data


@router.get("/data")
async def data(request: Request, caller: OpsCaller, wired: Wired) -> dict[str, Any]:
    """Everything the page shows, as JSON: queues (depth, consumers, rates), dead
    letters, failed days, stores waiting for a new key, outbox lag per service, stores
    moved to another organisation."""
    return await _snapshot(request, wired)


# --- actions --------------------------------------------------------------------------


class ReplayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queue: str = Field(description="Consumer queue, e.g. posting.store-totals-closed")
    message_id: str | None = Field(None, description="Only this message; all when absent")


class ReconnectTokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    store_id: StoreIdText


async def _issue_reconnect_token(wired: Wired, body: ReconnectTokenRequest) -> dict[str, Any]:
    try:
        issued = await wired.auth.issue_reconnect_token(body.store_id)
    except AuthUnavailable as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            detail=f"auth cannot issue a token now: {exc}") from None
    return issued


class RetryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    store_id: str = Field(pattern=STORE_ID)
    business_date: date


async def _replay(request: Request, body: ReplayRequest) -> dict[str, Any]:
    try:
        count = await _reader(request).replay(body.queue, body.message_id or None)
    except KeyError:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            detail=f"no consumer queue named {body.queue!r}") from None
    except BrokerUnavailable as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            detail=f"the broker cannot be asked now: {exc}") from None
    which = f"message {body.message_id}" if body.message_id else "all dead letters"
    return {"queue": body.queue, "replayed": count,
            "message": f"Replayed {count} message(s) ({which}) into {body.queue}."}


async def _retry(wired: Wired, body: RetryRequest) -> dict[str, Any]:
    setup = await wired.service.setup_of(body.store_id)
    if setup is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            detail=f"store {body.store_id} has no setup")
    try:
        # The same path as the POS's reprint with "post to Xero".
        result = await wired.service.reprint(setup, body.business_date, post_to_xero=True)
    except DayNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    except TotalsRefused as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            detail="; ".join(p.message for p in exc.problems)) from None
    post = post_view(result.post) if result.post else None
    text = post["message"] if post else "nothing done"
    return {"store_id": body.store_id, "business_date": body.business_date.isoformat(),
            "post": post,
            "message": f"Store {body.store_id}, {body.business_date}: {text}"}


@router.post("/api/replay")
async def replay_json(request: Request, body: ReplayRequest, caller: OpsCaller,
                      wired: Wired) -> dict[str, Any]:
    _check_form_token(caller, request.headers.get("x-ops-form-token"), wired)
    return await _replay(request, body)


@router.post("/api/retry")
async def retry_json(request: Request, body: RetryRequest, caller: OpsCaller,
                     wired: Wired) -> dict[str, Any]:
    _check_form_token(caller, request.headers.get("x-ops-form-token"), wired)
    return await _retry(wired, body)


@router.post("/api/reconnect-token")
async def reconnect_token_json(request: Request, body: ReconnectTokenRequest, caller: OpsCaller,
                               wired: Wired) -> dict[str, Any]:
    """A one-time token that reconnects a store whose key is lost (`{store_id,
    reconnect_token, expires_at}`); the store's setup presents it to auth."""
    _check_form_token(caller, request.headers.get("x-ops-form-token"), wired)
    return await _issue_reconnect_token(wired, body)


@router.post("/actions/reconnect-token", include_in_schema=False)
async def reconnect_token_form(
    request: Request, caller: OpsCaller, wired: Wired,
    store_id: Annotated[str, Form(max_length=64)],
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    _check_form_token(caller, csrf, wired)
    try:
        body = ReconnectTokenRequest.model_validate({"store_id": store_id})
        issued = await _issue_reconnect_token(wired, body)
    except HTTPException as exc:
        return await _back(request, caller, None, exc)
    except ValueError:  # pydantic's ValidationError: a hand-edited form
        return await _back(request, caller, None, HTTPException(422, detail=STORE_ID_RULE))
    return await _page(request, wired, caller, issued=issued)


async def _back(request: Request, caller: Caller, outcome: dict[str, Any] | None,
                failure: HTTPException | None) -> Response:
    """Back to the page, which shows what the action said (kept in the session)."""
    if caller.how == "cookie":
        text = outcome["message"] if outcome else str(failure.detail if failure else "failed")
        await _sessions(request).flash(request.cookies.get(COOKIE, ""), text, outcome is None)
    return RedirectResponse("/ops", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/actions/replay", include_in_schema=False)
async def replay_form(
    request: Request, caller: OpsCaller, wired: Wired,
    queue: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form(max_length=200)] = "",
    message_id: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    _check_form_token(caller, csrf, wired)
    try:
        outcome = await _replay(request, ReplayRequest(queue=queue,
                                                       message_id=message_id or None))
    except HTTPException as exc:
        return await _back(request, caller, None, exc)
    return await _back(request, caller, outcome, None)


@router.post("/actions/retry", include_in_schema=False)
async def retry_form(
    request: Request, caller: OpsCaller, wired: Wired,
    store_id: Annotated[str, Form(max_length=20)],
    business_date: Annotated[str, Form(max_length=10)],
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    _check_form_token(caller, csrf, wired)
    try:
        body = RetryRequest.model_validate({"store_id": store_id,
                                            "business_date": business_date})
        outcome = await _retry(wired, body)
    except HTTPException as exc:
        return await _back(request, caller, None, exc)
    except ValueError as exc:  # pydantic's ValidationError: a hand-edited form
        return await _back(request, caller, None,
                           HTTPException(422, detail=str(exc).splitlines()[0]))
    return await _back(request, caller, outcome, None)

