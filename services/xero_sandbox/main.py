"""Wiring: the in-memory sandbox, its routers, the fault edge."""

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from services.xero_sandbox.adapters.spec import SPEC_DIR, request_checks
from services.xero_sandbox.adapters.tokens import TokenCodec
from services.xero_sandbox.domain.clock import Clock
from services.xero_sandbox.domain.state import Sandbox
from services.xero_sandbox.entrypoints.http import accounting, control, identity
from services.xero_sandbox.entrypoints.http.common import NOT_FOUND_TEXT
from services.xero_sandbox.entrypoints.http.faults import DropMiddleware
from services.xero_sandbox.settings import SandboxSettings
from shared.metrics import metrics_router
from shared.settings import XeroSettings

# Xero's routing ignores case (the official SDKs call `/Connections`): canonical spellings.
_CANONICAL = {
    name.lower(): name for name in ("connections", "Accounts", "Organisation", "ManualJournals")
}


class CaseInsensitivePaths:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            parts = path.split("/")
            index = 1 if len(parts) > 1 and parts[1].lower() == "connections" else 3
            if path.lower().startswith("/api.xro/2.0/") or index == 1:
                canonical = _CANONICAL.get(parts[index].lower()) if len(parts) > index else None
                if canonical and canonical != parts[index]:
                    parts[index] = canonical
                    scope = {**scope, "path": "/".join(parts), "raw_path": None}
                    if index == 3:
                        parts[1] = "api.xro"
        await self.app(scope, receive, send)


def _beside_real_xero(xero: XeroSettings | None) -> bool:
    try:
        return not (xero or XeroSettings()).is_sandbox
    except ValidationError:  # a Xero configuration that cannot work: no control API either
        return True


def create_app(settings: SandboxSettings, xero: XeroSettings | None = None) -> FastAPI:
    if settings.control_enabled and _beside_real_xero(xero):
        # The control API rewires users, grants and clocks: never beside real Xero.
        raise SystemExit("xero-sandbox refuses to start: SANDBOX_CONTROL_ENABLED=true while "
                         "real Xero is configured (XERO_ENV=xero); unset one of them")
    app = FastAPI(title="Xero sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    tokens = TokenCodec(settings.jwt_secret.get_secret_value())
    app.state.settings = settings
    app.state.tokens = tokens
    app.state.sandbox = Sandbox(Clock(), tokens.encode, settings.redirect_uri_list,
                                settings.requests_kept)
    app.state.request_checks = request_checks(SPEC_DIR) if settings.check_requests else {}
    app.router.routes.extend(accounting.routes)
    app.include_router(identity.router)
    if settings.control_enabled:
        app.include_router(control.router)
    app.include_router(metrics_router())

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ok"}

    @app.exception_handler(404)
    async def plain_404(request: Request, exc: Exception) -> Response:
        # Xero answers unknown paths with plain text, not JSON.
        return Response(NOT_FOUND_TEXT, 404, media_type="text/plain; charset=utf-8")

    app.add_middleware(CaseInsensitivePaths)
    app.add_middleware(DropMiddleware)
    return app
