"""HTML pages of the connect flow (jinja2, autoescaped)."""

from pathlib import Path

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.auth.domain.connect import AttemptProblem, Tenant
from services.auth.service_layer.connect import Failure, FlowError

_env = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parents[2] / "templates"),
    autoescape=select_autoescape(["html"]),
)

# Pages with secrets or one-time forms must not be cached or leak through referrers.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

START_AGAIN = (
    "Go back to the store's Account Numbers setup, open the API Key box again and follow "
    "the new link it gives you."
)

PROBLEMS: dict[AttemptProblem | Failure, tuple[int, str, str, str]] = {
    AttemptProblem.UNKNOWN: (
        400,
        "This connect link is not valid",
        "The link does not belong to a connection this service started.",
        START_AGAIN,
    ),
    AttemptProblem.USED: (
        400,
        "This connect link was already used",
        "Each link connects a store once; this one was used before (perhaps the page was "
        "reloaded, or opened from the browser's history). Nothing was changed.",
        "If the store already shows a 2RF: key in its API Key box, it is connected. "
        "Otherwise: " + START_AGAIN,
    ),
    AttemptProblem.EXPIRED: (
        400,
        "This connect link has expired",
        "Connect links are valid for a short time, and this one ran out before Xero sent "
        "you back. Nothing was changed.",
        START_AGAIN,
    ),
    AttemptProblem.OTHER_BROWSER: (
        400,
        "This connection was started in another browser",
        "For your safety the connection must finish in the browser that opened the link.",
        START_AGAIN + " Finish in the same browser.",
    ),
    Failure.DENIED: (
        400,
        "Access to Xero was not allowed",
        "You chose Cancel on Xero's page, so the store was not connected and its API Key "
        "box is unchanged.",
        "To post this store's totals to Xero, "
        + START_AGAIN[0].lower()
        + START_AGAIN[1:]
        + " Then choose Allow access.",
    ),
    Failure.XERO_ERROR: (
        502,
        "Xero did not complete the connection",
        "Xero answered with an error, so the store was not connected.",
        START_AGAIN + " If it happens again, tell your system administrator what Xero said.",
    ),
    Failure.XERO_UNAVAILABLE: (
        503,
        "Xero cannot be reached right now",
        "Xero did not answer in time, so the store was not connected.",
        "Wait a few minutes, then " + START_AGAIN[0].lower() + START_AGAIN[1:],
    ),
    Failure.NO_ORGANISATION: (
        400,
        "No Xero organisation was connected",
        "Xero connected no organisation to this service.",
        START_AGAIN + " On Xero's page, choose the organisation this store posts to.",
    ),
    Failure.BAD_REQUEST: (
        400,
        "The request was incomplete",
        "The page was not sent the way this service expects.",
        START_AGAIN,
    ),
    Failure.STORE_CHANGED: (
        409,
        "The store's connection changed meanwhile",
        "While this connection was being made, the store was connected or reconnected "
        "another way, so this one was not saved. The store's current key keeps working.",
        START_AGAIN,
    ),
    Failure.MOVE_NOT_CONFIRMED: (
        400,
        "Moving the store was not confirmed",
        "The organisation chosen is not the one this store posted to, and moving it was "
        "not confirmed, so nothing was changed.",
        START_AGAIN,
    ),
    Failure.PICK_EXPIRED: (
        400,
        "This organisation choice is no longer open",
        "The choice was already made, or it waited too long.",
        START_AGAIN,
    ),
}


def render(template: str, status_code: int = 200, **context: object) -> HTMLResponse:
    html = _env.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=NO_STORE)


def problem_page(error: FlowError) -> HTMLResponse:
    status_code, title, what, todo = PROBLEMS[error.kind]
    detail = (
        error.detail
        if isinstance(error.kind, Failure)
        and error.kind in (Failure.XERO_ERROR, Failure.XERO_UNAVAILABLE, Failure.BAD_REQUEST)
        else ""
    )
    return render("problem.html", status_code, title=title, what=what, todo=todo, detail=detail)


def key_page(key: str, store_id: str, tenant_name: str, replaced: bool = False) -> HTMLResponse:
    return render(
        "key.html",
        title="Connected",
        key=key,
        store_id=store_id,
        tenant_name=tenant_name,
        replaced=replaced,
    )


def move_page(pick_id: str, store_id: str, tenant: Tenant, from_tenant_name: str,
              action: str) -> HTMLResponse:
    return render(
        "move.html",
        title="Move the store to another organisation?",
        pick_id=pick_id,
        store_id=store_id,
        tenant=tenant,
        from_tenant_name=from_tenant_name,
        action=action,
    )


def pick_page(pick_id: str, store_id: str, tenants: list[Tenant], action: str) -> HTMLResponse:
    return render(
        "pick.html",
        title="Choose the organisation",
        pick_id=pick_id,
        store_id=store_id,
        tenants=tenants,
        action=action,
    )
