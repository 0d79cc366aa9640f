"""The posting service's small HTTP side: where a day stands (operators, tests)."""

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, status

from services.posting.service_layer.ports import PostingViews
from shared.contracts.text import NUL_REFUSED


def status_router(credential: Callable[..., Any]) -> APIRouter:
    router = APIRouter(prefix="/internal/v1", tags=["status"], dependencies=[Depends(credential)])

    @router.get("/postings/{store_id}/{business_date}")
    async def posting_status(
        store_id: str, business_date: date, request: Request
    ) -> dict[str, Any]:
        if "\x00" in store_id:
            # PostgreSQL text cannot hold NUL: refuse it here rather than fail in the query.
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                                detail=f"path store_id: {NUL_REFUSED}")
        views: PostingViews = request.app.state.views
        return {
            "store_id": store_id,
            "business_date": business_date.isoformat(),
            "revisions": await views.status(store_id, business_date),
        }

    @router.get("/postings")
    async def counts(request: Request) -> dict[str, Any]:
        views: PostingViews = request.app.state.views
        return {"states": await views.counts()}

    return router
