"""What the POS and the browser call: setup, and the connect flow's pages."""

import secrets
from typing import Annotated

from fastapi import APIRouter, Body, Cookie, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from services.auth.domain.proof import ProofRequired, TooManyAttempts
from services.auth.domain.scenarios import Scenario, UnrecognisedKey
from services.auth.entrypoints.http import deps
from services.auth.entrypoints.http.pages import key_page, move_page, pick_page, problem_page
from services.auth.service_layer.connect import Connected, ConnectFlow, FlowError, MoveNeeded
from shared.contracts.stores import StoreIdText

BROWSER_COOKIE = "glbridge_connect"

router = APIRouter(tags=["public"])


class SetupRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    # The one store-id rule (shared/contracts/stores.py): refused here, at the first door,
    # before any Xero connection is made for an id totals would refuse.
    store_id: StoreIdText
    api_key: str | None = Field(
        default="", max_length=4000, description="What the store's API Key box holds"
    )
    reconnect_token: str | None = Field(
        default=None, max_length=200,
        description="A one-time token from the operator (2RT:...): reconnects a connected "
        "store whose key is lost",
    )


class SetupResponse(BaseModel):
    scenario: Scenario
    message: str
    connect_url: str


@router.post("/v1/setup", response_model=SetupResponse)
async def setup(
    body: Annotated[SetupRequest, Body(openapi_examples={
        "new": {"summary": "an empty API Key box", "value": {"store_id": "12", "api_key": ""}},
        "oauth1": {"summary": "an OAuth 1.0a token the POS stored",
                   "value": {"store_id": "12",
                             "api_key": "oauth_token=ABCDEFGHIJ0123456789KLMNOPQRST"
                                        "&oauth_token_secret=abcdefghijklmnopqrstuvwxyz0123"}},
        "oauth2-renew": {"summary": "an existing key, to connect again",
                         "value": {"store_id": "12", "api_key": "2RF:<connection>.<secret>"}},
    })],
    flow: Annotated[ConnectFlow, Depends(deps.flow)]
) -> SetupResponse | JSONResponse:
    try:
        classification, url = await flow.setup(
            body.store_id, body.api_key, body.reconnect_token
        )
    except UnrecognisedKey as exc:
        return JSONResponse(
            {"detail": [{"loc": ["body", "api_key"], "msg": str(exc), "type": "unrecognised_key"}]},
            status_code=422,
        )
    except ProofRequired as exc:
        return JSONResponse({"detail": str(exc), "error": "proof-required"}, status_code=401,
                            headers={"WWW-Authenticate": "X-Api-Key"})
    except TooManyAttempts as exc:
        return JSONResponse({"detail": str(exc), "error": "too-many-connect-links"},
                            status_code=429, headers={"Retry-After": "60"})
    return SetupResponse(
        scenario=classification.scenario, message=classification.message, connect_url=url
    )


@router.get("/v1/connect/start/{attempt_id}", response_class=HTMLResponse)
async def start(
    attempt_id: str, request: Request, flow: Annotated[ConnectFlow, Depends(deps.flow)]
) -> Response:
    # A browser that opened a link before keeps its cookie: the link stays bound to it.
    kept = request.cookies.get(BROWSER_COOKIE, "")
    browser = kept if 20 <= len(kept) <= 64 else secrets.token_urlsafe(24)
    try:
        url = await flow.start(attempt_id, browser)
    except FlowError as exc:
        return problem_page(exc)
    response = RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        BROWSER_COOKIE,
        browser,
        max_age=flow.settings.state_ttl_s,
        path="/v1/connect",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https" or flow.settings.public_url.startswith("https"),
    )
    return response


@router.get("/v1/connect/callback", response_class=HTMLResponse)
async def callback(
    flow: Annotated[ConnectFlow, Depends(deps.flow)],
    state: str | None = Query(default=None, max_length=200),
    code: str | None = Query(default=None, max_length=4000),
    error: str | None = Query(default=None, max_length=200),
    error_description: str | None = Query(default=None, max_length=2000),
    browser: str | None = Cookie(default=None, alias=BROWSER_COOKIE),
) -> HTMLResponse:
    try:
        outcome = await flow.callback(state, code, error, error_description, browser)
    except FlowError as exc:
        return problem_page(exc)
    if isinstance(outcome, Connected):
        return _connected(outcome)
    if isinstance(outcome, MoveNeeded):
        return _confirm_move(outcome)
    return pick_page(outcome.pick_id, outcome.store_id, outcome.tenants, "/v1/connect/pick")


@router.post("/v1/connect/pick", response_class=HTMLResponse)
async def pick(
    flow: Annotated[ConnectFlow, Depends(deps.flow)],
    pick_id: Annotated[str, Form(alias="pick", max_length=200)],
    tenant_id: Annotated[str | None, Form(max_length=100)] = None,
    confirm_move: Annotated[str, Form(max_length=10)] = "",
    browser: str | None = Cookie(default=None, alias=BROWSER_COOKIE),
) -> HTMLResponse:
    try:
        outcome = await flow.pick(pick_id, tenant_id, browser, confirm_move == "yes")
    except FlowError as exc:
        return problem_page(exc)
    if isinstance(outcome, MoveNeeded):
        return _confirm_move(outcome)
    return _connected(outcome)


def _confirm_move(outcome: MoveNeeded) -> HTMLResponse:
    return move_page(outcome.pick_id, outcome.store_id, outcome.tenant,
                     outcome.from_tenant_name, "/v1/connect/pick")


def _connected(outcome: Connected) -> HTMLResponse:
    return key_page(str(outcome.key), outcome.store_id, outcome.tenant_name)
