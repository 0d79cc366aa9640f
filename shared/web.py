"""What every service's HTTP side shares: the service credential, health and readiness."""

import hmac
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Header, HTTPException, status
from fastapi.responses import JSONResponse
from pydantic import SecretStr

ReadinessCheck = Callable[[], Awaitable[None]]


def service_credential(expected: SecretStr) -> Callable[..., None]:
    """A dependency that admits only callers presenting the service credential."""

    def check(authorization: str | None = Header(default=None)) -> None:
        scheme, _, presented = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            presented.encode(), expected.get_secret_value().encode()
        ):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="a valid service credential is required (Authorization: Bearer ...)",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check


def health_router(checks: dict[str, ReadinessCheck]) -> APIRouter:
    """`/healthz`: the process answers. `/readyz`: its broker and database answer too."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", response_model=None)
    async def readyz() -> JSONResponse:
        failures: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await check()
            except Exception as exc:
                failures[name] = f"{type(exc).__name__}: {exc}"
        if failures:
            return JSONResponse({"status": "unavailable", "failures": failures}, status_code=503)
        return JSONResponse({"status": "ready", "checks": sorted(checks)})

    return router


