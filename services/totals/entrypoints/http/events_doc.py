"""The AsyncAPI document of every event, for the people who integrate a POS."""

from typing import Any

from fastapi import APIRouter

from shared.contracts.asyncapi import build_asyncapi

router = APIRouter(tags=["documentation"])
_DOCUMENT = build_asyncapi()


@router.get("/asyncapi.json", summary="The AsyncAPI 3.0 document of the events")
async def asyncapi() -> dict[str, Any]:
    return _DOCUMENT
