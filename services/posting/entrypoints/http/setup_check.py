"""`POST /internal/v1/setup-check` (service credential): totals asks, when a store's
setup is saved, whether each entry's account would be accepted by the organisation.

Posting answers because it owns the Xero calls, their rate budget and the chart cache:
the chart and lock dates are read again from Xero for the check (the manager may just
have changed them), with the same rules a journal is checked by before it is sent.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.posting.adapters.charts import ChartCache
from services.posting.domain.setup_check import SetupEntry, check_setup
from services.posting.service_layer.ports import (
    AuthUnavailable,
    ReauthNeeded,
    Throttled,
    TokenRejected,
    UnknownConnection,
    XeroForbidden,
    XeroRateLimited,
    XeroUnavailable,
)
from shared.contracts.events import Tracking

Text = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Text
    account_code: Annotated[str, StringConstraints(min_length=1, max_length=10)]
    tax_type: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,50}$")] | None = None


class SetupCheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: UUID
    connection_id: UUID
    entries: list[Entry] = Field(max_length=500)
    tracking: list[Tracking] = Field(default_factory=list, max_length=2)
    # The store's currency, checked against the organisation's BaseCurrency.
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None


def setup_check_router(credential: Callable[..., Any]) -> APIRouter:
    router = APIRouter(prefix="/internal/v1", tags=["setup"],
                       dependencies=[Depends(credential)])

    @router.post("/setup-check")
    async def setup_check(body: SetupCheckRequest, request: Request) -> dict[str, Any]:
        charts: ChartCache = request.app.state.charts
        try:
            await charts.invalidate(body.tenant_id)
            # Tax rates and tracking categories are read when the setup uses them.
            settings = bool(body.tracking) or any(e.tax_type for e in body.entries)
            chart = await charts.get(body.tenant_id, body.connection_id, settings)
        except (ReauthNeeded, UnknownConnection, XeroForbidden) as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, detail={
                "reason": "connection",
                "message": "the store's Xero connection needs a new key: connect again",
                "xero_message": str(exc) or None}) from None
        except (Throttled, XeroRateLimited, XeroUnavailable, AuthUnavailable,
                TokenRejected) as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail={
                "reason": "xero-unavailable",
                "message": f"Xero could not be asked now ({type(exc).__name__}): try again",
            }, headers={"Retry-After": "5"}) from None
        findings = check_setup(
            [SetupEntry(e.category, e.account_code, e.tax_type) for e in body.entries],
            body.tracking, chart, datetime.now(UTC).date(), body.currency)
        return {
            "organisation": chart.organisation_name,
            "problems": [{"severity": f.severity.value,
                          **f.problem.model_dump(mode="json", exclude={"retryable"})}
                         for f in findings],
        }

    return router
