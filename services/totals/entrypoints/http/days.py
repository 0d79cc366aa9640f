"""Closing, reading, reprinting and following a store's days."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.background import BackgroundTask

from services.totals.adapters.notifier import wait_until
from services.totals.domain.day import SETTLED
from services.totals.domain.journal import TotalsRefused
from services.totals.domain.records import DayRecord
from services.totals.domain.totals import DayTotals
from services.totals.entrypoints.http.deps import StoreId, StoreSetupDep, Wired
from services.totals.entrypoints.http.views import day_view, post_view, printable, problems_body
from services.totals.entrypoints.http.wait_slots import Slot, WaitSlots, wait_slots
from services.totals.service_layer.days import DayNotFound
from shared.contracts.examples import example_day_totals

router = APIRouter(prefix="/v1/stores/{store_id}", tags=["days"])


class ReprintRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    post_to_xero: bool = False


def _refused(exc: TotalsRefused) -> JSONResponse:
    return JSONResponse(problems_body(exc.problems, "totals-refused"), status_code=422)


@router.post(
    "/days/{business_date}/close",
    response_model=None,
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": DayTotals.model_json_schema(),
        "examples": {"a rental store's day": {
            "summary": "revenue, tax, tenders, deposits and over/short that balance",
            "value": example_day_totals()}},
    }}}},
)
async def close_day(
    store_id: StoreId, business_date: date, setup: StoreSetupDep, wired: Wired,
    request: Request,
) -> JSONResponse:
    # The hot path: the body is parsed and validated in one step by pydantic's JSON
    # parser, and the answer is a ready JSON response (no generic encoders).
    try:
        totals = DayTotals.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(_body_errors(exc), body=None) from None
    try:
        result = await wired.service.close(setup, business_date, totals)
    except TotalsRefused as exc:
        return _refused(exc)
    return JSONResponse({"outcome": result.decision.outcome, "day": day_view(result.day)})


def _body_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Errors located as FastAPI locates them (under "body"), inputs kept only if JSON."""
    return [
        {"type": err["type"], "loc": ("body", *err["loc"]), "msg": err["msg"],
         **({"input": err["input"]} if isinstance(err.get("input"), str | int | float | dict
                                                  | list | None) else {})}
        for err in exc.errors(include_url=False, include_context=False)
    ]


@router.get("/days/{business_date}")
async def get_day(
    store_id: StoreId, business_date: date, setup: StoreSetupDep, wired: Wired,
    slots: Annotated[WaitSlots, Depends(wait_slots)],
    wait: Annotated[float, Query(ge=0, description="Seconds to wait for the outcome")] = 0,
) -> dict[str, Any]:
    timeout = min(wait, wired.settings.max_wait_s)

    async def read() -> DayRecord | None:
        return await wired.service.day_of(store_id, business_date)

    def settled(value: object) -> bool:
        return isinstance(value, DayRecord) and value.state.status in SETTLED

    # Only a request that waits holds one of the store's places.
    with slots.holding(store_id) if timeout > 0 else contextlib.nullcontext():
        day = await wait_until(wired.notifier, (store_id, business_date), read, settled,
                               timeout)
    if not isinstance(day, DayRecord):
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            detail=f"store {store_id} has not closed {business_date}")
    return day_view(day)


@router.post("/days/{business_date}/reprint", response_model=None)
async def reprint_day(
    store_id: StoreId, business_date: date, setup: StoreSetupDep, wired: Wired,
    body: ReprintRequest | None = None,
) -> dict[str, Any] | JSONResponse:
    post = body.post_to_xero if body else False
    try:
        result = await wired.service.reprint(setup, business_date, post)
    except TotalsRefused as exc:
        return _refused(exc)
    except DayNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    return {
        "print": printable(result.day),
        "post": post_view(result.post) if result.post else None,
        "day": day_view(result.day),
    }


@router.get("/events", response_class=StreamingResponse)
async def events(store_id: StoreId, setup: StoreSetupDep, wired: Wired,
                 slots: Annotated[WaitSlots, Depends(wait_slots)]) -> StreamingResponse:
    """Server-Sent Events: one `day` event each time a day of the store changes."""
    slot = slots.take(store_id)
    return StreamingResponse(
        _stream(store_id, wired, slot),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        background=BackgroundTask(slot.release),
    )


async def _stream(store_id: str, wired: Any, slot: Slot) -> AsyncIterator[str]:
    keepalive = wired.settings.sse_keepalive_s
    with contextlib.ExitStack() as held:
        held.callback(slot.release)
        async for chunk in _changes(store_id, wired, keepalive):
            yield chunk


async def _changes(store_id: str, wired: Any, keepalive: float) -> AsyncIterator[str]:
    notifier = wired.notifier
    with notifier.watch_store(store_id) as changes:
        # Recorded before "connected": a day changed after that is notified.
        await notifier.watching(store_id)
        yield "retry: 2000\n: connected\n\n"
        while True:
            await notifier.watching(store_id)  # again before it lapses (no I/O till then)
            try:
                changed = await asyncio.wait_for(
                    changes.get(), timeout=min(keepalive, notifier.watch_s / 2))
            except TimeoutError:
                yield ": keepalive\n\n"
                continue
            dates = {changed}
            with contextlib.suppress(asyncio.QueueEmpty):
                while True:  # several changes queued: send each day's latest state once
                    dates.add(changes.get_nowait())
            for business_date in sorted(dates):
                day = await wired.service.day_of(store_id, business_date)
                if day is not None:
                    view = day_view(day)
                    event_id = f"{store_id}:{business_date}:{view['revision']}:{view['status']}"
                    yield f"id: {event_id}\nevent: day\ndata: {json.dumps(view)}\n\n"
